import type { Repos, Store } from '../db/store.js';
import type { Metrics } from './metrics.js';

type Decision = { verdict: string; channel: string };

/**
 * Counts decisions where they are written, so the domain (src/requests) stays free of metrics
 * and every path that records a verdict — a reply by mail, the CLI — is counted the same way.
 * Inside a transaction the count waits for the commit: a rolled-back decision never happened.
 */
export function instrumentStore(store: Store, metrics: Pick<Metrics, 'decisionsRecorded'>): Store {
  const withCounting = (repos: Repos, record: (d: Decision) => void): Repos => ({
    ...repos,
    requests: {
      ...repos.requests,
      async setVerdict(u) {
        const ok = await repos.requests.setVerdict(u);
        if (ok) record({ verdict: u.verdict, channel: u.channel });
        return ok;
      },
    },
  });
  return {
    // Outside a transaction each statement commits on its own.
    repos: withCounting(store.repos, (d) => metrics.decisionsRecorded([d])),
    async transaction(fn) {
      const recorded: Decision[] = [];
      const result = await store.transaction((repos) => {
        // Should the transaction ever be run again (a retry), only its last run counts.
        recorded.length = 0;
        return fn(withCounting(repos, (d) => recorded.push(d)));
      });
      metrics.decisionsRecorded(recorded);
      return result;
    },
  };
}
