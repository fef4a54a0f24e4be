import type { Database, Queryable } from './client.js';
import { createAuditRepo, createAutoRepliesRepo } from './repos/audit-repo.js';
import { createInboundRepo } from './repos/inbound-repo.js';
import { createJobRunsRepo } from './repos/job-runs-repo.js';
import { createLedgerRepo } from './repos/ledger-repo.js';
import { createOutboxRepo } from './repos/outbox-repo.js';
import { createRequestsRepo, createSharesRepo } from './repos/requests-repo.js';

/** The repositories, bound to the database or to one transaction. */
export function createRepos(q: Queryable) {
  return {
    requests: createRequestsRepo(q),
    shares: createSharesRepo(q),
    outbox: createOutboxRepo(q),
    inbound: createInboundRepo(q),
    audit: createAuditRepo(q),
    autoReplies: createAutoRepliesRepo(q),
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
    transaction: (fn) => db.transaction((tx) => fn(createRepos(tx))),
  };
}
