import cron from 'node-cron';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as schema from '../../src/db/schema/index.js';
import { createScheduler, lastFiring, periodOf, type Scheduler } from '../../src/jobs/scheduler.js';
import { memoryLogger, startTestApp } from '../helpers/app.js';

/**
 * A daemon that is down at a job's scheduled minute (a machine switched off at night) runs the
 * missed firing when it starts, once across instances; a firing that was run is not run again.
 * Times are local, as node-cron reads a schedule without a time zone.
 */
const local = (month: number, day: number, hour: number, minute: number, second = 0) => new Date(2026, month - 1, day, hour, minute, second);

describe('lastFiring', () => {
  const at = (schedule: string, now: Date) => {
    const task = cron.createTask(schedule, () => {});
    try {
      return lastFiring(task, now);
    } finally {
      void task.destroy();
    }
  };

  it('finds the latest scheduled minute at or before now', () => {
    expect(at('17 3 * * *', local(11, 21, 10, 0))).toEqual(local(11, 21, 3, 17));
    expect(at('17 3 * * *', local(11, 21, 3, 17, 30))).toEqual(local(11, 21, 3, 17));
    expect(at('17 3 * * *', local(11, 21, 3, 16, 59))).toEqual(local(11, 20, 3, 17));
    expect(at('0 4 1 * *', local(11, 21, 10, 0))).toEqual(local(11, 1, 4, 0));
    expect(at('*/5 * * * *', local(11, 21, 10, 7, 12))).toEqual(local(11, 21, 10, 5));
  });

  it('looks back 32 days at most', () => {
    expect(at('0 0 1 1 *', local(11, 21, 10, 0))).toBeNull();
  });
});

describe('a scheduler that starts after a missed firing', () => {
  let app: Awaited<ReturnType<typeof startTestApp>>;
  const schedulers: Scheduler[] = [];
  let runs = 0;

  const start = (now: Date, instanceId: string) => {
    const s = createScheduler({
      jobs: [{ name: 'nightly', schedule: '17 3 * * *', run: async () => void runs++ }],
      logger: memoryLogger().logger,
      runs: app.store.repos.jobRuns,
      instanceId,
      clock: () => now,
    });
    schedulers.push(s);
    s.start();
    return s;
  };
  const jobRuns = () => app.db.db.select().from(schema.jobRuns);

  beforeAll(async () => {
    app = await startTestApp({ databaseUrl: null });
  });
  afterAll(async () => {
    for (const s of schedulers) await s.stop();
    await app?.cleanup();
  });

  it('runs it at start, once across instances, and not again at the next start', async () => {
    const now = local(11, 21, 10, 0);
    // stop() waits for a run in progress: here, the catch-up that start() began.
    await start(now, 'a').stop();
    expect(runs).toBe(1);
    expect((await jobRuns()).map((r) => ({ job: r.job, period: r.period, instance: r.instance, done: r.finishedAt !== null }))).toEqual([
      { job: 'nightly', period: periodOf(local(11, 21, 3, 17)), instance: 'a', done: true },
    ]);

    // Another instance, and this one again later the same day: the firing is taken.
    const b = start(local(11, 21, 11, 0), 'b');
    const again = start(local(11, 21, 23, 59), 'a');
    expect(await b.runOnce('nightly', local(11, 21, 3, 17))).toBe('taken');
    await b.stop();
    await again.stop();
    expect(runs).toBe(1);
    expect(await jobRuns()).toHaveLength(1);

    // The next day, before the firing: yesterday's was run, so nothing; after it: today's runs.
    await start(local(11, 22, 2, 0), 'a').stop();
    expect(runs).toBe(1);
    await start(local(11, 22, 4, 0), 'a').stop();
    expect(runs).toBe(2);
    expect((await jobRuns()).map((r) => r.period).sort()).toEqual([periodOf(local(11, 21, 3, 17)), periodOf(local(11, 22, 3, 17))]);
  });
});
