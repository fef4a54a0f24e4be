import type { RequestWithPeople } from '../db/repos/requests-repo.js';
import type { Repos } from '../db/store.js';
import type { DomainDeps } from './deps.js';
import { common, personView, requestView } from './views.js';

/**
 * One outcome mail per person on a completed request. The requester's mail also lists everyone
 * else's verdict, since they asked on their behalf. The dedupe key makes a second call a no-op.
 */
export async function sendOutcomes(repos: Repos, deps: DomainDeps, request: RequestWithPeople): Promise<void> {
  const rules = deps.rules();
  const view = requestView(rules, request);
  for (const p of request.people) {
    if (!p.verdict) continue;
    const data = {
      ...common(rules, p.email),
      request: view,
      person: personView(rules, p.email, p.name),
      decidedBy: personView(rules, p.decidedBy ?? 'mailgrant'),
      comment: p.comment,
      message: p.outcomeMessage,
      isRequester: p.isRequester,
    };
    const env = { to: p.email, dedupeKey: `outcome:${request.id}:${p.email}`, requestId: request.id };
    const mail = p.verdict === 'approve' ? deps.composer.compose('outcome-approved', data, env) : deps.composer.compose('outcome-denied', data, env);
    await repos.outbox.enqueue(mail);
  }
}
