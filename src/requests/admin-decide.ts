import { randomUUID } from 'node:crypto';
import type { Group, Product, Rules } from '../config/rules.js';
import type { RequestWithPeople } from '../db/repos/requests-repo.js';
import type { Repos, Store } from '../db/store.js';
import { validatePlans } from '../licenses/products.js';
import { MailgrantError } from '../shared/errors.js';
import { applyDecisions, type DecisionResult } from './decisions.js';
import type { DomainDeps } from './deps.js';
import { lookupPerson } from './name-lookup.js';
import { requireRole } from './roles.js';

/**
 * `mailgrant decide`: an admin decides a request from the command line, with the choices that
 * only make sense there — which of the matched products to assign, service plans turned off,
 * the security group that carries the licence. The verdicts themselves go through the same
 * applyDecisions as an emailed reply, so seats, requires/conflicts and outcome mails are the same.
 */
export interface AdminDecideInput {
  requestId: number;
  actor: string | undefined;
  approve?: readonly string[];
  approveAll?: boolean;
  deny?: readonly string[];
  denyAll?: boolean;
  /** One of the products the request mail matched (requests.alternative_product_ids). */
  productId?: string;
  disablePlans?: readonly string[];
  /** The product's securityGroup: the licence is assigned by adding the approved people to it. */
  group?: string;
  /** Goes into the outcome mails, as a decider's comment does. */
  message?: string;
}

export interface AdminDecideResult extends DecisionResult {
  productId: string;
  productChanged: boolean;
  disabledPlans: string[];
  viaGroup: string | null;
}

function nameOf(rules: Rules, id: string): string {
  return rules.product(id)?.name ?? id;
}

/** Which product the decision is for: the request's own, or one of its alternatives when asked for. */
async function chooseProduct(repos: Repos, rules: Rules, request: RequestWithPeople, wanted: string | undefined, actor: string, now: Date): Promise<{ product: Product; changed: boolean }> {
  const id = wanted?.trim().toLowerCase();
  if (!id || id === request.productId) {
    const product = rules.product(request.productId);
    if (!product) throw new MailgrantError('conflict', `Request ${request.id} is for "${request.productId}", which is no longer in ${rules.source}.`);
    return { product, changed: false };
  }
  const options = [request.productId, ...request.alternativeProductIds];
  if (!options.includes(id)) {
    const list = options.map((o) => `${o} (${nameOf(rules, o)})`).join(', ');
    throw new MailgrantError('invalid_input', `Request ${request.id} can only be assigned ${list}; "${wanted}" did not match the request mail.`);
  }
  const product = rules.product(id);
  if (!product) throw new MailgrantError('not_found', `No product with id "${id}" in ${rules.source} any more.`);
  const approved = request.people.filter((p) => p.verdict === 'approve');
  if (approved.length > 0) {
    throw new MailgrantError('invalid_input', `Request ${request.id} already has approvals for ${nameOf(rules, request.productId)}; the product can only be chosen before the first approval.`);
  }
  const other = await repos.requests.findPending(request.requesterEmail, id);
  if (other && other.id !== request.id) {
    throw new MailgrantError('invalid_input', `${request.requesterEmail} already has a pending request #${other.id} for ${product.name}; decide that one instead.`);
  }
  const alternatives = options.filter((o) => o !== id);
  await repos.requests.setProduct(request.id, id, alternatives);
  await repos.audit.record({
    actor, channel: 'cli', action: 'product-chosen', requestId: request.id, at: now,
    details: { from: request.productId, to: id },
  });
  request.productId = id;
  request.alternativeProductIds = alternatives;
  return { product, changed: true };
}

function checkGroup(rules: Rules, product: Product, name: string | undefined): Group | null {
  if (name === undefined) return null;
  const group = rules.group(name.trim());
  if (!group) {
    throw new MailgrantError('not_found', `No group named "${name}" in ${rules.source} (groups: ${rules.groups.map((g) => g.name).join(', ') || 'none'}).`);
  }
  if (!product.securityGroup || rules.group(product.securityGroup) !== group) {
    const how = product.securityGroup ? `its licence is carried by the group "${product.securityGroup}"` : 'no group carries its licence';
    throw new MailgrantError('invalid_input', `The group "${group.name}" does not carry a licence for ${product.name}: ${how}.`);
  }
  return group;
}

export async function decideAsAdmin(store: Store, deps: DomainDeps, input: AdminDecideInput): Promise<AdminDecideResult> {
  const rules = deps.rules();
  const admin = requireRole(rules, input.actor, 'decide');
  if (input.approveAll && input.approve?.length) throw new MailgrantError('invalid_input', 'Give --approve-all or --approve NAMES, not both.');
  if (input.denyAll && input.deny?.length) throw new MailgrantError('invalid_input', 'Give --deny-all or --deny NAMES, not both.');
  if (input.approveAll && input.denyAll) throw new MailgrantError('invalid_input', '--approve-all and --deny-all contradict each other.');
  if (!input.approveAll && !input.denyAll && !input.approve?.length && !input.deny?.length) {
    throw new MailgrantError('invalid_input', 'Say what to decide: --approve NAMES, --approve-all, --deny NAMES or --deny-all.');
  }
  const message = input.message?.trim() || null;
  const now = deps.clock();

  const result = await store.transaction(async (repos) => {
    const request = await repos.requests.get(input.requestId, { forUpdate: true });
    if (!request) throw new MailgrantError('not_found', `Request ${input.requestId} does not exist.`);
    if (request.status === 'completed') throw new MailgrantError('invalid_input', `Request ${request.id} is already completed; there is nothing left to decide.`);

    const resolve = (items: readonly string[] | undefined): string[] =>
      (items ?? []).map((item) => {
        const found = lookupPerson(request.people, item);
        if (found.kind === 'found') return found.person.email;
        const people = request.people.map((p) => p.email).join(', ');
        if (found.kind === 'ambiguous') {
          throw new MailgrantError('invalid_input', `"${item}" matches ${found.matches.map((m) => m.email).join(' and ')} on request ${request.id}; use the address.`);
        }
        throw new MailgrantError('invalid_input', `Nobody on request ${request.id} matches "${item}" (people: ${people}).`);
      });
    const approveNamed = resolve(input.approve);
    const denyNamed = resolve(input.deny);
    const both = approveNamed.filter((e) => denyNamed.includes(e));
    if (both.length > 0) throw new MailgrantError('invalid_input', `${both.join(', ')} cannot be both approved and denied.`);
    const undecided = request.people.filter((p) => !p.verdict).map((p) => p.email);
    const approve = input.approveAll ? undecided.filter((e) => !denyNamed.includes(e)) : approveNamed;
    const deny = input.denyAll ? undecided.filter((e) => !approveNamed.includes(e)) : denyNamed;
    if (approve.length === 0 && deny.length === 0) throw new MailgrantError('invalid_input', `Everyone on request ${request.id} is already decided.`);

    const { product, changed } = await chooseProduct(repos, rules, request, input.productId, admin.email, now);
    const disabledPlans = validatePlans(product, input.disablePlans);
    const group = checkGroup(rules, product, input.group);
    if ((disabledPlans.length > 0 || group) && approve.length === 0) {
      throw new MailgrantError('invalid_input', '--disable-plans and --group apply to approved people, and nobody is approved here.');
    }

    const decided = await applyDecisions(repos, deps, {
      requestId: request.id,
      decisions: [...approve.map((user) => ({ user, verdict: 'approve' as const })), ...deny.map((user) => ({ user, verdict: 'deny' as const }))],
      decider: admin.email,
      channel: 'cli',
      comment: null,
      outcomeMessage: message,
      evidence: { role: admin.role, command: 'mailgrant decide' },
      // Each command run is its own event: running the same command again is a new decision.
      eventKey: `cli:${randomUUID()}`,
      assignment: { disabledPlans, viaGroup: group?.name ?? null },
    });
    return { ...decided, productId: product.id, productChanged: changed, disabledPlans, viaGroup: group?.name ?? null };
  });
  return result;
}
