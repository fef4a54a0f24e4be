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

/**
 * In the describe block that calls it: a database of its own, and a way to start schedulers of
 * a nightly job (03:17) on it as instance `instanceId` at `now`, all stopped at the end. With
 * `alive`, the instances that are running (for taking over abandoned runs).
 */
function nightlyJob(run: () => Promise<void>) {
  let app: Awaited<ReturnType<typeof startTestApp>>;
  const schedulers: Scheduler[] = [];
  beforeAll(async () => {
    app = await startTestApp({ databaseUrl: null });
  });
  afterAll(async () => {
    for (const s of schedulers) await s.stop();
    await app?.cleanup();
  });
  return {
    app: () => app,
    start(now: Date, instanceId: string, alive?: readonly string[]) {
      const s = createScheduler({
        jobs: [{ name: 'nightly', schedule: '17 3 * * *', run }],
        logger: memoryLogger().logger,
        runs: app.store.repos.jobRuns,
        instanceId,
        ...(alive ? { isAlive: async (id: string) => alive.includes(id) } : {}),
        clock: () => now,
      });
      schedulers.push(s);
      s.start();
      return s;
    },
  };
}

describe('a scheduler that starts after a missed firing', () => {
  let runs = 0;
  const nightly = nightlyJob(async () => void runs++);
  const start = (now: Date, instanceId: string) => nightly.start(now, instanceId);
  const jobRuns = () => nightly.app().db.db.select().from(schema.jobRuns);

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

describe('a run left unfinished by an instance that stopped', () => {
  let runs = 0;
  let failNext = false;
  const nightly = nightlyJob(async () => {
    runs++;
    if (failNext) {
      failNext = false;
      throw new Error('the job failed');
    }
  });
  const start = nightly.start;
  const runOf = async (period: string) =>
    (await nightly.app().db.db.select().from(schema.jobRuns)).filter((r) => r.period === period).map((r) => ({ instance: r.instance, done: r.finishedAt !== null }));

  it('is taken over and run by an instance that starts once the other is gone, and only then, and once', async () => {
    const period = periodOf(local(11, 21, 3, 17));
    // Instance "a" claimed the night's run and died in the middle of it.
    expect(await nightly.app().store.repos.jobRuns.claim('nightly', period, 'a', local(11, 21, 3, 17))).not.toBeNull();
    runs = 0;
    // While "a" still runs (a long retention), nobody else starts the same run.
    await start(local(11, 21, 3, 20), 'b', ['a', 'b']).stop();
    expect(runs).toBe(0);
    expect(await runOf(period)).toEqual([{ instance: 'a', done: false }]);
    // "a" is gone: "b" and "c" start together; one of them takes the run over and runs it.
    await Promise.all([start(local(11, 21, 10, 0), 'b', ['b', 'c']).stop(), start(local(11, 21, 10, 0), 'c', ['b', 'c']).stop()]);
    expect(runs).toBe(1);
    const [row] = await runOf(period);
    expect(row!.done).toBe(true);
    expect(['b', 'c']).toContain(row!.instance);
    // Finished: a later start finds it done.
    await start(local(11, 21, 11, 0), 'd', ['d']).stop();
    expect(runs).toBe(1);
  });

  it('its own failed run is not run again in a loop by the same instance, but by the next one after a restart', async () => {
    const period = periodOf(local(11, 22, 3, 17));
    runs = 0;
    failNext = true;
    await start(local(11, 22, 4, 0), 'e', ['e']).stop();
    expect(runs).toBe(1);
    expect(await runOf(period)).toEqual([{ instance: 'e', done: false }]);
    // The same instance starting its scheduler again: the run is its own, it waits.
    await start(local(11, 22, 5, 0), 'e', ['e']).stop();
    expect(runs).toBe(1);
    // A restart is a new instance: "e" is gone, the run is taken over.
    await start(local(11, 22, 6, 0), 'f', ['f']).stop();
    expect(runs).toBe(2);
    expect(await runOf(period)).toEqual([{ instance: 'f', done: true }]);
  });
});
