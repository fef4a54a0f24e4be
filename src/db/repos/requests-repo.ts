import { and, asc, desc, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Queryable } from '../client.js';
import { compiled } from '../compiled.js';
import { requestPeople, requests, shares } from '../schema/index.js';

export type RequestRow = typeof requests.$inferSelect;
export type PersonRow = typeof requestPeople.$inferSelect;
export type ShareRow = typeof shares.$inferSelect;
export interface RequestWithPeople extends RequestRow { people: PersonRow[] }

export interface NewRequest {
  productId: string;
  alternativeProductIds: string[];
  requesterEmail: string;
  subject: string;
  sourceMessageId: number | null;
  createdAt: Date;
}

export interface VerdictUpdate {
  requestId: number;
  email: string;
  verdict: 'approve' | 'deny';
  decidedBy: string;
  channel: 'email' | 'cli';
  comment: string | null;
  outcomeMessage?: string | null;
  at: Date;
}

// The statements every reply runs, built once (see compiled.ts).
const requestById = compiled<{ id: number }, RequestRow[]>((q, p) => q.select().from(requests).where(eq(requests.id, p('id'))));
const requestByIdForUpdate = compiled<{ id: number }, RequestRow[]>((q, p) => q.select().from(requests).where(eq(requests.id, p('id'))).for('update'));
const peopleOfRequest = compiled<{ requestId: number }, PersonRow[]>((q, p) =>
  q.select().from(requestPeople).where(eq(requestPeople.requestId, p('requestId'))).orderBy(asc(requestPeople.id)),
);
const verdictIfUndecided = compiled<Omit<VerdictUpdate, 'outcomeMessage'> & { outcomeMessage: string | null }, { id: number }[]>((q, p) =>
  q
    .update(requestPeople)
    .set({ verdict: p('verdict'), decidedBy: p('decidedBy'), decidedAt: p('at'), channel: p('channel'), comment: p('comment'), outcomeMessage: p('outcomeMessage') })
    .where(and(eq(requestPeople.requestId, p('requestId')), eq(requestPeople.email, p('email')), isNull(requestPeople.verdict)))
    .returning({ id: requestPeople.id }),
);
const completeIfPending = compiled<{ id: number; at: Date }, { id: number }[]>((q, p) =>
  q
    .update(requests)
    .set({ status: 'completed', completedAt: p('at') })
    .where(and(eq(requests.id, p('id')), eq(requests.status, 'pending')))
    .returning({ id: requests.id }),
);
const shareByTokenHash = compiled<{ tokenHash: string }, ShareRow[]>((q, p) => q.select().from(shares).where(eq(shares.tokenHash, p('tokenHash'))).limit(1));

export function createRequestsRepo(q: Queryable) {
  return {
    /** Inserts a pending request; null when one is already pending for that requester and product. */
    async insertPending(r: NewRequest): Promise<number | null> {
      const rows = await q.insert(requests).values(r).onConflictDoNothing().returning({ id: requests.id });
      return rows[0]?.id ?? null;
    },

    async findPending(requesterEmail: string, productId: string): Promise<RequestRow | undefined> {
      const rows = await q
        .select()
        .from(requests)
        .where(and(eq(requests.requesterEmail, requesterEmail), eq(requests.productId, productId), eq(requests.status, 'pending')))
        .limit(1);
      return rows[0];
    },

    async addPeople(requestId: number, people: { email: string; name: string; isRequester: boolean }[]): Promise<void> {
      if (people.length === 0) return;
      await q.insert(requestPeople).values(people.map((p) => ({ requestId, ...p }))).onConflictDoNothing();
    },

    /** Loads a request with its people; `forUpdate` locks the request row until the transaction ends. */
    async get(id: number, opts: { forUpdate?: boolean } = {}): Promise<RequestWithPeople | undefined> {
      // Sent together, in this order, which the connection keeps: with `forUpdate` the people are
      // read once the request row is locked. Both are `compiled` queries, so neither can overtake
      // the other on its way to the driver.
      const [rows, people] = await Promise.all([(opts.forUpdate ? requestByIdForUpdate : requestById)(q, { id }), peopleOfRequest(q, { requestId: id })]);
      const row = rows[0];
      return row ? { ...row, people } : undefined;
    },

    /** Records a verdict only for a person still undecided; false when someone decided first. */
    async setVerdict(u: VerdictUpdate): Promise<boolean> {
      const rows = await verdictIfUndecided(q, { ...u, outcomeMessage: u.outcomeMessage ?? null });
      return rows.length === 1;
    },

    /** Marks the request completed once; false when it already was. */
    async complete(id: number, at: Date): Promise<boolean> {
      const rows = await completeIfPending(q, { id, at });
      return rows.length === 1;
    },

    /** Chooses the product to assign; the others that matched stay as alternatives. */
    async setProduct(id: number, productId: string, alternativeProductIds?: string[]): Promise<void> {
      await q.update(requests).set(alternativeProductIds ? { productId, alternativeProductIds } : { productId }).where(eq(requests.id, id));
    },

    async list(filter: { status?: 'pending' | 'completed'; productId?: string; limit?: number }): Promise<RequestRow[]> {
      const conds = [];
      if (filter.status) conds.push(eq(requests.status, filter.status));
      if (filter.productId) conds.push(eq(requests.productId, filter.productId));
      return q
        .select()
        .from(requests)
        .where(conds.length ? and(...conds) : undefined)
        // Pending first, newest first: what an admin has to act on comes at the top.
        .orderBy(sql`case when ${requests.status} = 'pending' then 0 else 1 end`, desc(requests.createdAt), desc(requests.id))
        .limit(filter.limit ?? 1000);
    },

    async peopleOf(requestIds: number[]): Promise<PersonRow[]> {
      if (requestIds.length === 0) return [];
      return q.select().from(requestPeople).where(inArray(requestPeople.requestId, requestIds));
    },
  };
}

export function createSharesRepo(q: Queryable) {
  return {
    async insert(s: typeof shares.$inferInsert): Promise<number> {
      const rows = await q.insert(shares).values(s).returning({ id: shares.id });
      return rows[0]!.id;
    },
    async findByTokenHash(tokenHash: string): Promise<ShareRow | undefined> {
      const rows = await shareByTokenHash(q, { tokenHash });
      return rows[0];
    },
    async forRequest(requestId: number): Promise<ShareRow[]> {
      return q.select().from(shares).where(eq(shares.requestId, requestId)).orderBy(asc(shares.id));
    },
  };
}

export type RequestsRepo = ReturnType<typeof createRequestsRepo>;
export type SharesRepo = ReturnType<typeof createSharesRepo>;
