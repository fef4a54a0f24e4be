import type { Logger } from 'pino';
import { subtractDuration } from '../config/duration.js';
import type { Rules } from '../config/rules.js';
import type { Database } from '../db/client.js';
import { createRetentionRepo, type RetentionCounts } from '../db/repos/retention-repo.js';
import { createAuditRepo } from '../db/repos/audit-repo.js';

/** Deletes requests (and what hangs off them) older than the rules' retention, in one transaction. */
export async function runRetention(deps: { db: Database; rules: () => Rules; clock: () => Date; logger: Logger }): Promise<RetentionCounts & Record<string, unknown>> {
  const rules = deps.rules();
  const now = deps.clock();
  const cutoff = subtractDuration(now, rules.retention);
  const autoReplyCutoff = subtractDuration(now, rules.autoReplies.perSenderWindow);
  const counts = await deps.db.transaction(async (tx) => {
    const c = await createRetentionRepo(tx).purge(cutoff, autoReplyCutoff);
    await createAuditRepo(tx).record({
      actor: 'mailgrant', channel: 'system', action: 'retention-purge', at: now,
      details: { retention: rules.retention.text, cutoff: cutoff.toISOString(), ...c },
    });
    return c;
  });
  deps.logger.info({ ...counts, cutoff: cutoff.toISOString() }, 'retention job done');
  return counts;
}
