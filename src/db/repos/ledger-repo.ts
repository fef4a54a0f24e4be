import { and, asc, eq, sql } from 'drizzle-orm';
import type { Queryable } from '../client.js';
import { compiled, compiledInsert } from '../compiled.js';
import { assignments } from '../schema/index.js';

export type AssignmentRow = typeof assignments.$inferSelect;

const assignedCount = compiled<{ productId: string }, { n: number }[]>((q, p) =>
  q.select({ n: sql<number>`count(*)::int` }).from(assignments).where(eq(assignments.productId, p('productId'))),
);
const insertAssignment = compiledInsert<typeof assignments.$inferInsert, { id: number }[]>((q, v) =>
  q.insert(assignments).values(v).onConflictDoNothing().returning({ id: assignments.id }),
);
// `= any($1)`: one statement text for any number of products and people.
const holders = compiled<{ productIds: string[]; emails: string[] }, AssignmentRow[]>((q, p) =>
  q
    .select()
    .from(assignments)
    .where(and(sql`${assignments.productId} = any(${p('productIds')})`, sql`${assignments.email} = any(${p('emails')})`))
    .orderBy(asc(assignments.id)),
);

export function createLedgerRepo(q: Queryable) {
  return {
    /**
     * Serialises seat counting for one product until the transaction ends. Counting and then
     * inserting is only safe under this lock; the unique key still guards each person.
     */
    async lockProduct(productId: string): Promise<void> {
      // Not compiled: a raw statement is small to build, and drizzle's execute() has no prepare().
      await q.execute(sql`select pg_advisory_xact_lock(hashtext(${'mailgrant-seats:' + productId}))`);
    },
    async countAssigned(productId: string): Promise<number> {
      const rows = await assignedCount(q, { productId });
      return rows[0]?.n ?? 0;
    },
    async countsByProduct(): Promise<Map<string, number>> {
      const rows = await q.select({ productId: assignments.productId, n: sql<number>`count(*)::int` }).from(assignments).groupBy(assignments.productId);
      return new Map(rows.map((r) => [r.productId, r.n]));
    },
    /** false when the person already had the product. */
    async assign(a: typeof assignments.$inferInsert): Promise<boolean> {
      const rows = await insertAssignment(q, a);
      return rows.length === 1;
    },
    async revoke(productId: string, email: string): Promise<boolean> {
      const rows = await q.delete(assignments).where(and(eq(assignments.productId, productId), eq(assignments.email, email))).returning({ id: assignments.id });
      return rows.length === 1;
    },
    async forRequest(requestId: number): Promise<AssignmentRow[]> {
      return q.select().from(assignments).where(eq(assignments.requestId, requestId)).orderBy(asc(assignments.id));
    },
    async holdersOf(productIds: string[], emails: string[]): Promise<AssignmentRow[]> {
      if (productIds.length === 0 || emails.length === 0) return [];
      return holders(q, { productIds, emails });
    },
  };
}

export type LedgerRepo = ReturnType<typeof createLedgerRepo>;
