import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import { MailgrantError } from '../shared/errors.js';

export interface Job { name: string; schedule: string; run: () => Promise<unknown> }
export interface Scheduler { start(): void; stop(): Promise<void> }

/** Runs each job on its cron schedule; a job never overlaps itself and a failure never stops the schedule. */
export function createScheduler(jobs: readonly Job[], logger: Logger): Scheduler {
  for (const j of jobs) {
    if (!cron.validate(j.schedule)) throw new MailgrantError('config_invalid', `The schedule "${j.schedule}" of the ${j.name} job is not a cron expression.`);
  }
  const tasks: ScheduledTask[] = [];
  const running = new Map<string, Promise<unknown>>();
  return {
    start() {
      if (tasks.length > 0) return;
      for (const j of jobs) {
        tasks.push(
          cron.schedule(j.schedule, () => {
            if (running.has(j.name)) return;
            const p = j
              .run()
              .catch((err: Error) => logger.error({ err, job: j.name }, 'scheduled job failed; it runs again at its next time'))
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
