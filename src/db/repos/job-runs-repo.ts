import { and, eq, isNull } from 'drizzle-orm';
import type { Queryable } from '../client.js';
import { jobRuns } from '../schema/index.js';

export function createJobRunsRepo(q: Queryable) {
  return {
    /** Claims the run of `job` for `period`; false when another instance already has it. */
    async claim(job: string, period: string, instance: string, at: Date): Promise<number | null> {
      const rows = await q.insert(jobRuns).values({ job, period, instance, startedAt: at }).onConflictDoNothing().returning({ id: jobRuns.id });
      return rows[0]?.id ?? null;
    },
    /** Who holds the run of `job` for `period`, and whether it finished. */
    async find(job: string, period: string): Promise<{ id: number; instance: string; finishedAt: Date | null } | undefined> {
      const rows = await q.select({ id: jobRuns.id, instance: jobRuns.instance, finishedAt: jobRuns.finishedAt }).from(jobRuns).where(and(eq(jobRuns.job, job), eq(jobRuns.period, period)));
      return rows[0];
    },
    /**
     * Takes over a run that `from` claimed and never finished; false when it finished meanwhile
     * or another instance took it over first (the row changed: the compare-and-set is the guard).
     */
    async takeOver(id: number, from: string, instance: string, at: Date): Promise<boolean> {
      const rows = await q
        .update(jobRuns)
        .set({ instance, startedAt: at })
        .where(and(eq(jobRuns.id, id), eq(jobRuns.instance, from), isNull(jobRuns.finishedAt)))
        .returning({ id: jobRuns.id });
      return rows.length === 1;
    },
    async finish(id: number, at: Date, result: Record<string, unknown>): Promise<void> {
      await q.update(jobRuns).set({ finishedAt: at, result }).where(eq(jobRuns.id, id));
    },
  };
}
export type JobRunsRepo = ReturnType<typeof createJobRunsRepo>;
