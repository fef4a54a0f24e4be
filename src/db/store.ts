import type { Database, Queryable } from './client.js';
import { createAuditRepo, createAutoRepliesRepo } from './repos/audit-repo.js';
import { createInboundRepo } from './repos/inbound-repo.js';
import { createJobRunsRepo } from './repos/job-runs-repo.js';
import { createLedgerRepo } from './repos/ledger-repo.js';
import { createOutboxRepo } from './repos/outbox-repo.js';
import { createRequestsRepo, createSharesRepo } from './repos/requests-repo.js';
import { sendNow, writeBehind, type Send } from './write-behind.js';

/**
 * The repositories, bound to the database or to one transaction. `send` is how writes whose result
 * nobody reads are sent: waited for (the default), or, in a transaction, not (write-behind.ts).
 */
export function createRepos(q: Queryable, send: Send = sendNow) {
  return {
    requests: createRequestsRepo(q),
    shares: createSharesRepo(q),
    outbox: createOutboxRepo(q, send),
    inbound: createInboundRepo(q, send),
    audit: createAuditRepo(q, send),
    autoReplies: createAutoRepliesRepo(q, send),
    ledger: createLedgerRepo(q),
    jobRuns: createJobRunsRepo(q),
  };
}
export type Repos = ReturnType<typeof createRepos>;

/** What the domain sees of the database: repositories, and a way to use them in one transaction. */
export interface Store {
  readonly repos: Repos;
  transaction<T>(fn: (repos: Repos) => Promise<T>): Promise<T>;
}

export function createStore(db: Database): Store {
  return {
    repos: createRepos(db),
    transaction: (fn) =>
      db.transaction(async (tx) => {
        const behind = writeBehind();
        let result;
        try {
          result = await fn(createRepos(tx, behind.send));
        } catch (err) {
          throw await behind.reason(err);
        }
        // Before the commit: a write that failed rolls the transaction back.
        await behind.settle();
        return result;
      }),
  };
}
