import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import type { JobRunsRepo } from '../db/repos/job-runs-repo.js';
import { MailgrantError } from '../shared/errors.js';

export interface Job { name: string; schedule: string; run: () => Promise<Record<string, unknown> | void> }
export interface Scheduler {
  start(): void;
  stop(): Promise<void>;
  /** Runs a job for the period of `at` as a firing of the schedule would (tests). */
  runOnce(name: string, at: Date): Promise<'ran' | 'taken'>;
}

/** The period a firing belongs to: its scheduled minute, the same on every instance. */
export function periodOf(at: Date): string {
  return at.toISOString().slice(0, 16);
}

/** How far back a start looks for a firing nobody ran: a monthly job's last firing is within it. */
const CATCH_UP_DAYS = 32;

/**
 * The latest minute at or before `now` at which `task` fires, within CATCH_UP_DAYS; null if none.
 * Only the minutes the schedule names are tried in each hour (node-cron's `match` costs ~20 µs:
 * every minute of 32 days took a second).
 */
export function lastFiring(task: Pick<ScheduledTask, 'match' | 'getPattern'>, now: Date): Date | null {
  const minutes = [...cron.parse(task.getPattern()).minute].sort((a, b) => b - a);
  const hour = new Date(now);
  hour.setMinutes(0, 0, 0);
  for (let h = 0; h < CATCH_UP_DAYS * 24; h++) {
    const start = hour.getTime() - h * 3_600_000;
    for (const m of minutes) {
      const at = new Date(start + m * 60_000);
      if (at.getTime() <= now.getTime() && task.match(at)) return at;
    }
  }
  return null;
}

/**
 * Runs each job on its cron schedule. With several instances on one database every instance's
 * timer fires, and a row in job_runs (unique per job and period) decides which one runs it:
 * the guard is the unique key, not a check-then-run. A job never overlaps itself and a failure
 * never stops the schedule.
 *
 * At start, each job's last scheduled firing is run if no instance ran it: a daemon that is
 * down at the scheduled minute every day (a machine switched off at night) would otherwise
 * never delete anything past the retention time. The same unique key makes this a no-op when
 * the firing was run.
 */
export function createScheduler(o: {
  jobs: readonly Job[];
  logger: Logger;
  runs: JobRunsRepo;
  instanceId: string;
  /**
   * Whether the instance of that id is still running. With it, a run that another instance
   * claimed and never finished (it died in the middle, or the job failed and the daemon was
   * restarted) is taken over at start when that instance is gone; without it, such a run waits
   * for the next firing.
   */
  isAlive?: (instanceId: string) => Promise<boolean>;
  clock?: () => Date;
}): Scheduler {
  const clock = o.clock ?? (() => new Date());
  for (const j of o.jobs) {
    if (!cron.validate(j.schedule)) throw new MailgrantError('config_invalid', `The schedule "${j.schedule}" of the ${j.name} job is not a cron expression.`);
  }
  const byName = new Map(o.jobs.map((j) => [j.name, j]));
  const tasks: ScheduledTask[] = [];
  const running = new Map<string, Promise<unknown>>();

  /** `takeOver`: at start, a run of the period that a stopped instance left unfinished is run too. */
  async function run(name: string, at: Date, takeOver: boolean): Promise<'ran' | 'taken'> {
    const job = byName.get(name);
    if (!job) throw new MailgrantError('not_found', `No job named ${name}.`);
    const period = periodOf(at);
    const runId = (await o.runs.claim(job.name, period, o.instanceId, clock())) ?? (takeOver ? await takeOverAbandoned(job.name, period) : null);
    if (runId === null) return 'taken';
    const result = (await job.run()) ?? {};
    await o.runs.finish(runId, clock(), result);
    return 'ran';
  }

  /**
   * The run of a period that an instance claimed and left unfinished when it stopped: a crash in
   * the middle of retention would otherwise count as done until the next firing. Jobs are written
   * to be run again (retention deletes what is past its time). Not the runs of this instance: a
   * job that failed here runs again at its next firing, not in a loop. Only at start, when this
   * instance has made itself known to the others (app.ts starts the liveness first), so that
   * every instance that could hold a run is one `isAlive` can see: a process that runs a job
   * without having started (a test calling `runOnce`) would look dead to the others.
   */
  async function takeOverAbandoned(job: string, period: string): Promise<number | null> {
    if (!o.isAlive) return null;
    const held = await o.runs.find(job, period);
    if (!held || held.finishedAt || held.instance === o.instanceId || (await o.isAlive(held.instance))) return null;
    if (!(await o.runs.takeOver(held.id, held.instance, o.instanceId, clock()))) return null;
    o.logger.warn({ job, period, abandonedBy: held.instance }, 'taking over a scheduled run that a stopped instance left unfinished');
    return held.id;
  }

  function fire(j: Job, at: Date, catchUp: boolean): void {
    if (running.has(j.name)) return;
    const period = periodOf(at);
    const p = run(j.name, at, catchUp)
      .then((r) => {
        // A catch-up that ran is worth an info line: a firing was missed (the daemon was down).
        const level = catchUp && r === 'ran' ? 'info' : 'debug';
        o.logger[level]({ job: j.name, period, outcome: r, ...(catchUp ? { missedFiring: true } : {}) }, r === 'ran' ? 'scheduled job ran' : 'scheduled job already run by another instance');
      })
      .catch((err: Error) => o.logger.error({ err, job: j.name, period }, 'scheduled job failed; it runs again at its next time'))
      .finally(() => running.delete(j.name));
    running.set(j.name, p);
  }

  return {
    runOnce: (name, at) => run(name, at, false),
    start() {
      if (tasks.length > 0) return;
      for (const j of o.jobs) {
        const task = cron.schedule(j.schedule, (ctx) => fire(j, ctx?.date ?? clock(), false), { name: j.name });
        tasks.push(task);
        const missed = lastFiring(task, clock());
        if (missed) fire(j, missed, true);
      }
    },
    async stop() {
      for (const t of tasks.splice(0)) await t.stop();
      await Promise.all(running.values());
    },
  };
}
