import type { PersonRow, RequestWithPeople } from '../db/repos/requests-repo.js';
import type { Repos } from '../db/store.js';
import { writeBehind } from '../db/write-behind.js';
import { checkAssignment, type AssignmentProblemCode } from '../licenses/assignment-rules.js';
import { holdingsOf, lockForAssignment } from '../licenses/ledger.js';
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
  /** Replaces the default text of the outcome mails (`decide --message`). */
  outcomeMessage?: string | null;
  /** What proves the decision: inbound Message-ID and authentication result, or the CLI user. */
  evidence: Record<string, unknown>;
  /** Names this decision event, so the mails it causes are composed once. */
  eventKey: string;
  /** How approved people get the licence (CLI only): service plans turned off, the group that carries it. */
  assignment?: { disabledPlans?: readonly string[]; viaGroup?: string | null };
  /** The request as the caller already read it `forUpdate` in this transaction: not read again. */
  locked?: RequestWithPeople;
}

export interface DecisionResult {
  request: RequestWithPeople;
  recorded: { email: string; verdict: Verdict }[];
  alreadyDecided: { email: string; verdict: Verdict; by: string }[];
  waitingForSeats: string[];
  /** Approved people left undecided because the product's requires/conflictsWith rules forbid it for them. */
  blocked: { email: string; code: AssignmentProblemCode; reason: string }[];
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
  const request = input.locked?.id === input.requestId ? input.locked : await repos.requests.get(input.requestId, { forUpdate: true });
  if (!request) throw new MailgrantError('not_found', `Request ${input.requestId} does not exist.`);
  const product = rules.product(request.productId);
  const byEmail = new Map(request.people.map((p) => [p.email, p]));

  const result: DecisionResult = { request, recorded: [], alreadyDecided: [], waitingForSeats: [], blocked: [], completed: false };
  const approvals = input.decisions.filter((d) => d.verdict === 'approve');
  let seatsLeft = 0;
  // What each approved person already holds among the products this one's rules mention.
  let held = new Map<string, Set<string>>();
  if (approvals.length > 0) {
    if (!product) throw new MailgrantError('conflict', `Request ${request.id} is for "${request.productId}", which is no longer in the rules.`);
    // The same locks and checks as `mailgrant licenses assign` (src/licenses): one seat count for both.
    await lockForAssignment(repos, rules, product);
    // Two reads under the locks, sent together.
    const [assigned, holdings] = await Promise.all([repos.ledger.countAssigned(product.id), holdingsOf(repos, rules, product, approvals.map((a) => a.user))]);
    seatsLeft = product.seats - assigned;
    held = holdings;
  }

  /*
   * The writes below are sent together and waited for once, at the end (one round trip instead of
   * one per statement; see src/db/write-behind.ts). Nothing here reads what they return before
   * then: the request row is locked, so what was read above is what the writes apply to, and a
   * write that reports otherwise fails the whole transaction at the end.
   */
  // Each write is handled as it is given, so one failing after a throw below (which rolls
  // everything back) is not an unhandled rejection; `settle` at the end throws the first failure.
  const writes = writeBehind();
  const send = (w: Promise<unknown>) => void writes.send(w);
  for (const d of input.decisions) {
    const person = byEmail.get(d.user);
    if (!person) throw new MailgrantError('invalid_input', `${d.user} is not on request ${request.id}.`);
    if (person.verdict) {
      result.alreadyDecided.push({ email: person.email, verdict: person.verdict, by: person.decidedBy ?? 'unknown' });
      continue;
    }
    const has = held.get(person.email) ?? new Set<string>();
    if (d.verdict === 'approve' && !has.has(product!.id)) {
      const problem = checkAssignment(rules, product!, has);
      if (problem) {
        result.blocked.push({ email: person.email, code: problem.code, reason: problem.reason });
        continue;
      }
      if (seatsLeft <= 0) {
        result.waitingForSeats.push(person.email);
        continue;
      }
      send(repos.ledger.assign({
        productId: product!.id, email: person.email, requestId: request.id, assignedBy: input.decider, assignedAt: now,
        disabledPlans: [...(input.assignment?.disabledPlans ?? [])], viaGroup: input.assignment?.viaGroup ?? null,
      }));
      seatsLeft -= 1;
    }
    const email = person.email;
    send(
      repos.requests.setVerdict({
        requestId: request.id, email, verdict: d.verdict, decidedBy: input.decider, channel: input.channel, comment: input.comment, outcomeMessage: input.outcomeMessage ?? null, at: now,
      }).then((ok) => {
        // The request row is locked, so nobody else can have decided in between; a false here is a bug.
        if (!ok) throw new MailgrantError('conflict', `${email} on request ${request.id} was decided concurrently.`);
      }),
    );
    Object.assign(person, { verdict: d.verdict, decidedBy: input.decider, decidedAt: now, channel: input.channel, comment: input.comment, outcomeMessage: input.outcomeMessage ?? null } satisfies Partial<PersonRow>);
    result.recorded.push({ email: person.email, verdict: d.verdict });
    send(repos.audit.record({
      actor: input.decider, channel: input.channel, action: d.verdict === 'approve' ? 'person-approved' : 'person-denied',
      requestId: request.id, at: now,
      details: {
        person: person.email, comment: input.comment, productId: request.productId, ...input.evidence,
        ...(d.verdict === 'approve' && input.assignment ? { disabledPlans: input.assignment.disabledPlans ?? [], viaGroup: input.assignment.viaGroup ?? null } : {}),
      },
    }));
  }

  if (result.blocked.length > 0) {
    // Like missing seats: the decider and the admins learn why these people are still waiting.
    const recipients = new Set([input.decider, ...rules.admins.map((a) => a.email)]);
    const title = `Request #${request.id}: ${result.blocked.length} approved ${result.blocked.length === 1 ? 'person' : 'people'} cannot get ${product?.name ?? request.productId}`;
    const lines = result.blocked.map((b) => `${rules.displayName(b.email)} <${b.email}> ${b.reason}; still undecided`);
    for (const to of recipients) {
      send(repos.outbox.enqueue(
        deps.composer.compose('admin-alert', { ...common(rules, to), title, lines }, { to, dedupeKey: `assignment-blocked:${input.eventKey}:${to}`, requestId: request.id }),
      ));
    }
  }

  if (result.waitingForSeats.length > 0 && product) {
    const view = requestView(rules, request);
    const recipients = new Set([input.decider, ...rules.admins.map((a) => a.email)]);
    for (const to of recipients) {
      send(repos.outbox.enqueue(
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
      ));
    }
  }

  // Read under the row lock: a request still pending here is still pending when `complete` runs.
  if (request.status === 'pending' && request.people.every((p) => p.verdict)) {
    send(
      repos.requests.complete(request.id, now).then((ok) => {
        if (!ok) throw new MailgrantError('conflict', `Request ${request.id} was completed concurrently.`);
      }),
    );
    request.status = 'completed';
    request.completedAt = now;
    result.completed = true;
    send(repos.audit.record({ actor: 'mailgrant', channel: 'system', action: 'request-completed', requestId: request.id, at: now }));
    send(sendOutcomes(repos, deps, request));
  }
  await writes.settle();
  return result;
}
