import type { PersonRow, RequestWithPeople } from '../db/repos/requests-repo.js';
import type { Repos } from '../db/store.js';
import { MailgrantError } from '../shared/errors.js';
import type { DomainDeps } from './deps.js';
import { sendOutcomes } from './outcome.js';
import { common, personView, requestView } from './views.js';

export type Verdict = 'approve' | 'deny';

export interface DecisionInput {
  requestId: number;
  decisions: readonly { user: string; verdict: Verdict }[];
  decider: string;
  channel: 'email' | 'cli';
  comment: string | null;
  /** What proves the decision: inbound Message-ID and authentication result, or the CLI user. */
  evidence: Record<string, unknown>;
  /** Names this decision event, so the mails it causes are composed once. */
  eventKey: string;
}

export interface DecisionResult {
  request: RequestWithPeople;
  recorded: { email: string; verdict: Verdict }[];
  alreadyDecided: { email: string; verdict: Verdict; by: string }[];
  waitingForSeats: string[];
  completed: boolean;
}

/**
 * Records per-person verdicts in the caller's transaction. Approvals take a seat each, counted
 * under a per-product lock so that concurrent decisions never hand out more seats than exist;
 * people approved beyond the seats left stay undecided and the decider and admins are told.
 * When everyone is decided the request completes and each person gets one outcome mail.
 */
export async function applyDecisions(repos: Repos, deps: DomainDeps, input: DecisionInput): Promise<DecisionResult> {
  const rules = deps.rules();
  const now = deps.clock();
  const request = await repos.requests.get(input.requestId, { forUpdate: true });
  if (!request) throw new MailgrantError('not_found', `Request ${input.requestId} does not exist.`);
  const product = rules.product(request.productId);
  const byEmail = new Map(request.people.map((p) => [p.email, p]));

  const result: DecisionResult = { request, recorded: [], alreadyDecided: [], waitingForSeats: [], completed: false };
  const approvals = input.decisions.filter((d) => d.verdict === 'approve');
  let seatsLeft = 0;
  if (approvals.length > 0) {
    if (!product) throw new MailgrantError('conflict', `Request ${request.id} is for "${request.productId}", which is no longer in the rules.`);
    await repos.ledger.lockProduct(product.id);
    seatsLeft = product.seats - (await repos.ledger.countAssigned(product.id));
  }
  const holders = new Set(
    product ? (await repos.ledger.holdersOf([product.id], approvals.map((a) => a.user))).map((h) => h.email) : [],
  );

  for (const d of input.decisions) {
    const person = byEmail.get(d.user);
    if (!person) throw new MailgrantError('invalid_input', `${d.user} is not on request ${request.id}.`);
    if (person.verdict) {
      result.alreadyDecided.push({ email: person.email, verdict: person.verdict, by: person.decidedBy ?? 'unknown' });
      continue;
    }
    if (d.verdict === 'approve' && !holders.has(person.email)) {
      if (seatsLeft <= 0) {
        result.waitingForSeats.push(person.email);
        continue;
      }
      await repos.ledger.assign({ productId: product!.id, email: person.email, requestId: request.id, assignedBy: input.decider, assignedAt: now });
      seatsLeft -= 1;
    }
    const ok = await repos.requests.setVerdict({
      requestId: request.id, email: person.email, verdict: d.verdict, decidedBy: input.decider, channel: input.channel, comment: input.comment, at: now,
    });
    // The request row is locked, so nobody else can have decided in between; a false here is a bug.
    if (!ok) throw new MailgrantError('conflict', `${person.email} on request ${request.id} was decided concurrently.`);
    Object.assign(person, { verdict: d.verdict, decidedBy: input.decider, decidedAt: now, channel: input.channel, comment: input.comment } satisfies Partial<PersonRow>);
    result.recorded.push({ email: person.email, verdict: d.verdict });
    await repos.audit.record({
      actor: input.decider, channel: input.channel, action: d.verdict === 'approve' ? 'person-approved' : 'person-denied',
      requestId: request.id, at: now, details: { person: person.email, comment: input.comment, productId: request.productId, ...input.evidence },
    });
  }

  if (result.waitingForSeats.length > 0 && product) {
    const view = requestView(rules, request);
    const recipients = new Set([input.decider, ...rules.admins.map((a) => a.email)]);
    for (const to of recipients) {
      await repos.outbox.enqueue(
        deps.composer.compose(
          'seats-missing',
          {
            ...common(rules, to),
            request: view,
            missing: result.waitingForSeats.length,
            waiting: result.waitingForSeats.map((e) => personView(rules, e, byEmail.get(e)?.name)),
            purchaseUrl: product.purchaseUrl,
          },
          { to, dedupeKey: `seats-missing:${input.eventKey}:${to}`, requestId: request.id },
        ),
      );
    }
  }

  if (request.people.every((p) => p.verdict) && (await repos.requests.complete(request.id, now))) {
    request.status = 'completed';
    request.completedAt = now;
    result.completed = true;
    await repos.audit.record({ actor: 'mailgrant', channel: 'system', action: 'request-completed', requestId: request.id, at: now });
    await sendOutcomes(repos, deps, request);
  }
  return result;
}
