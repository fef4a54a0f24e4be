import { eq } from 'drizzle-orm';
import type { Queryable } from '../client.js';
import { jobRuns } from '../schema/index.js';

export function createJobRunsRepo(q: Queryable) {
  return {
    /** Claims the run of `job` for `period`; false when another instance already has it. */
    async claim(job: string, period: string, instance: string, at: Date): Promise<number | null> {
      const rows = await q.insert(jobRuns).values({ job, period, instance, startedAt: at }).onConflictDoNothing().returning({ id: jobRuns.id });
      return rows[0]?.id ?? null;
    },
    async finish(id: number, at: Date, result: Record<string, unknown>): Promise<void> {
      await q.update(jobRuns).set({ finishedAt: at, result }).where(eq(jobRuns.id, id));
    },
  };
}
export type JobRunsRepo = ReturnType<typeof createJobRunsRepo>;
