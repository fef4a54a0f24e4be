import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import type { JobRunsRepo } from '../db/repos/job-runs-repo.js';
import { MailgrantError } from '../shared/errors.js';

export interface Job { name: string; schedule: string; run: () => Promise<Record<string, unknown> | void> }
export interface Scheduler {
  start(): void;
  stop(): Promise<void>;
  /** Runs a job for the period of `at` as the schedule would (tests, and catching up at start). */
  runOnce(name: string, at: Date): Promise<'ran' | 'taken'>;
}

/** The period a firing belongs to: its scheduled minute, the same on every instance. */
export function periodOf(at: Date): string {
  return at.toISOString().slice(0, 16);
}

/**
 * Runs each job on its cron schedule. With several instances on one database every instance's
 * timer fires, and a row in job_runs (unique per job and period) decides which one runs it:
 * the guard is the unique key, not a check-then-run. A job never overlaps itself and a failure
 * never stops the schedule.
 */
export function createScheduler(o: { jobs: readonly Job[]; logger: Logger; runs: JobRunsRepo; instanceId: string; clock?: () => Date }): Scheduler {
  const clock = o.clock ?? (() => new Date());
  for (const j of o.jobs) {
    if (!cron.validate(j.schedule)) throw new MailgrantError('config_invalid', `The schedule "${j.schedule}" of the ${j.name} job is not a cron expression.`);
  }
  const byName = new Map(o.jobs.map((j) => [j.name, j]));
  const tasks: ScheduledTask[] = [];
  const running = new Map<string, Promise<unknown>>();

  async function runOnce(name: string, at: Date): Promise<'ran' | 'taken'> {
    const job = byName.get(name);
    if (!job) throw new MailgrantError('not_found', `No job named ${name}.`);
    const runId = await o.runs.claim(job.name, periodOf(at), o.instanceId, clock());
    if (runId === null) return 'taken';
    const result = (await job.run()) ?? {};
    await o.runs.finish(runId, clock(), result);
    return 'ran';
  }

  return {
    runOnce,
    start() {
      if (tasks.length > 0) return;
      for (const j of o.jobs) {
        tasks.push(
          cron.schedule(j.schedule, (ctx) => {
            if (running.has(j.name)) return;
            const p = runOnce(j.name, ctx?.date ?? clock())
              .then((r) => o.logger.debug({ job: j.name, outcome: r }, r === 'ran' ? 'scheduled job ran' : 'scheduled job already run by another instance'))
              .catch((err: Error) => o.logger.error({ err, job: j.name }, 'scheduled job failed; it runs again at its next time'))
              .finally(() => running.delete(j.name));
            running.set(j.name, p);
          }, { name: j.name }),
        );
      }
    },
    async stop() {
      for (const t of tasks.splice(0)) await t.stop();
      await Promise.all(running.values());
    },
  };
}
