import type { Product, Rules } from '../config/rules.js';
import type { Repos, Store } from '../db/store.js';
import { lookupPerson } from '../requests/name-lookup.js';
import { requireRole } from '../requests/roles.js';
import { MailgrantError } from '../shared/errors.js';
import { checkAssignment, checkRevocation, noSeatsMessage, relatedProductIds, seatsLeft } from './assignment-rules.js';
import { findProduct, validatePlans } from './products.js';

/**
 * The licence ledger: seats per product and who holds them. Seats are counted under per-product
 * advisory locks taken in a fixed order (the product and every product its rules mention), in
 * the same transaction as the assignment; the unique key (product, person) is the last guard.
 * Approvals go through the same locks and checks (decisions.ts), so a CLI bulk assignment and an
 * emailed "approve" racing for the last seat cannot both get it.
 */
export interface LedgerDeps {
  readonly rules: () => Rules;
  readonly clock: () => Date;
}

/** Locks every product whose assignments the rules of `product` look at, until the transaction ends. */
export async function lockForAssignment(repos: Repos, rules: Rules, product: Product): Promise<void> {
  for (const id of relatedProductIds(rules, product)) await repos.ledger.lockProduct(id);
}

/** Which of the products related to `product` each person holds. */
export async function holdingsOf(repos: Repos, rules: Rules, product: Product, emails: readonly string[]): Promise<Map<string, Set<string>>> {
  const out = new Map<string, Set<string>>(emails.map((e) => [e, new Set<string>()]));
  for (const row of await repos.ledger.holdersOf(relatedProductIds(rules, product), [...emails])) {
    out.get(row.email)?.add(row.productId);
  }
  return out;
}

export type AssignOutcome =
  | 'assigned'
  | 'already-assigned'
  | 'no-seats'
  | 'unknown-person'
  | 'ambiguous-person'
  | 'conflicting-product'
  | 'missing-required-product';
export type RevokeOutcome = 'revoked' | 'not-assigned' | 'unknown-person' | 'ambiguous-person' | 'still-required';

export interface PersonResult<O extends string> {
  /** What was asked for, as typed. */
  item: string;
  email: string | null;
  outcome: O;
  /** One phrase for the result line. */
  reason: string;
}

export interface BulkResult<O extends string> {
  action: 'assign' | 'revoke';
  productId: string;
  productName: string;
  results: PersonResult<O>[];
  counts: Partial<Record<O, number>>;
  seats: { total: number; assigned: number; available: number };
  /** One line: what happened overall, and what to do about missing seats. */
  summary: string;
  /** True when every person ended up as asked (assigned or already had it; revoked or did not have it). */
  ok: boolean;
}

export interface BulkInput {
  productId: string;
  /** People as typed: addresses, local parts or names. */
  users?: readonly string[];
  /** A directory group whose members are the people. */
  group?: string;
  disabledPlans?: readonly string[];
  actor: string;
  /** Called after each person, for a progress bar on large lists. */
  onProgress?: (done: number, total: number) => void;
}

const ASSIGN_TEXT: Record<AssignOutcome, string> = {
  assigned: 'assigned',
  'already-assigned': 'already had it',
  'no-seats': 'not enough seats',
  'unknown-person': 'unknown person',
  'ambiguous-person': 'ambiguous name',
  'conflicting-product': 'conflicting product',
  'missing-required-product': 'missing required product',
};
const REVOKE_TEXT: Record<RevokeOutcome, string> = {
  revoked: 'revoked',
  'not-assigned': 'did not have it',
  'unknown-person': 'unknown person',
  'ambiguous-person': 'ambiguous name',
  'still-required': 'still required',
};

export function outcomeText(outcome: AssignOutcome | RevokeOutcome): string {
  return (ASSIGN_TEXT as Record<string, string>)[outcome] ?? (REVOKE_TEXT as Record<string, string>)[outcome] ?? outcome;
}

/** The people a bulk command is about: --users or --group, resolved against the directory. */
function resolvePeople(rules: Rules, input: BulkInput): { item: string; email: string | null; problem: 'unknown-person' | 'ambiguous-person' | null; reason: string }[] {
  if (input.group !== undefined && input.users !== undefined) throw new MailgrantError('invalid_input', 'Give either --users or --group, not both.');
  let items: readonly string[];
  if (input.group !== undefined) {
    const group = rules.group(input.group.trim());
    if (!group) {
      throw new MailgrantError('not_found', `No group named "${input.group}" in ${rules.source} (groups: ${rules.groups.map((g) => g.name).join(', ') || 'none'}).`);
    }
    items = group.members;
  } else {
    items = input.users ?? [];
  }
  if (items.length === 0) {
    throw new MailgrantError('invalid_input', input.group !== undefined ? `The group "${input.group}" has no members.` : 'Name the people with --users a@x,b@x or --group NAME.');
  }
  const seen = new Set<string>();
  const out: ReturnType<typeof resolvePeople> = [];
  for (const item of items) {
    const found = lookupPerson(rules.users, item);
    if (found.kind === 'unknown') out.push({ item, email: null, problem: 'unknown-person', reason: 'not in the directory' });
    else if (found.kind === 'ambiguous') {
      out.push({ item, email: null, problem: 'ambiguous-person', reason: `matches ${found.matches.map((m) => m.email).join(', ')}; use the address` });
    } else if (!seen.has(found.person.email)) {
      seen.add(found.person.email);
      out.push({ item, email: found.person.email, problem: null, reason: '' });
    }
  }
  return out;
}

type Resolved = ReturnType<typeof resolvePeople>[number];

/**
 * The loop both bulk operations share: people in the order given, progress reported, people who
 * did not resolve get their problem as the result, the others go to `act` with the products they
 * hold (a set `act` keeps up to date, so later people see earlier changes).
 */
async function perPerson<O extends string>(
  people: Resolved[],
  held: Map<string, Set<string>>,
  onProgress: BulkInput['onProgress'],
  act: (person: { item: string; email: string }, has: Set<string>) => Promise<{ outcome: O; reason: string }>,
): Promise<PersonResult<O | 'unknown-person' | 'ambiguous-person'>[]> {
  const results: PersonResult<O | 'unknown-person' | 'ambiguous-person'>[] = [];
  for (const [i, p] of people.entries()) {
    onProgress?.(i, people.length);
    if (p.problem || !p.email) {
      results.push({ item: p.item, email: null, outcome: p.problem ?? 'unknown-person', reason: p.reason });
      continue;
    }
    const has = held.get(p.email) ?? new Set<string>();
    results.push({ item: p.item, email: p.email, ...(await act({ item: p.item, email: p.email }, has)) });
  }
  onProgress?.(people.length, people.length);
  return results;
}

function tally<O extends string>(results: PersonResult<O>[]): Partial<Record<O, number>> {
  const counts: Partial<Record<O, number>> = {};
  for (const r of results) counts[r.outcome] = (counts[r.outcome] ?? 0) + 1;
  return counts;
}

/**
 * Assigns a product to many people in one transaction, with one result per person. Nobody gets
 * a seat twice and no seat is handed out beyond the product's count, also while approvals and
 * other CLI calls run at the same time (they wait on the same product locks).
 */
export async function assignLicenses(store: Store, deps: LedgerDeps, input: BulkInput): Promise<BulkResult<AssignOutcome>> {
  const rules = deps.rules();
  requireRole(rules, input.actor, 'assign');
  const product = findProduct(rules, input.productId);
  const disabledPlans = validatePlans(product, input.disabledPlans);
  const people = resolvePeople(rules, input);
  const now = deps.clock();
  const actor = input.actor.trim().toLowerCase();

  return store.transaction(async (repos) => {
    await lockForAssignment(repos, rules, product);
    let assigned = await repos.ledger.countAssigned(product.id);
    const held = await holdingsOf(repos, rules, product, people.flatMap((p) => (p.email ? [p.email] : [])));
    const results = await perPerson<AssignOutcome>(people, held, input.onProgress, async (p, has) => {
      if (has.has(product.id)) return { outcome: 'already-assigned', reason: '' };
      const problem = checkAssignment(rules, product, has);
      if (problem) return { outcome: problem.code === 'conflicting_product' ? 'conflicting-product' : 'missing-required-product', reason: problem.reason };
      if (seatsLeft(product, assigned) <= 0) return { outcome: 'no-seats', reason: `${product.seats} of ${product.seats} seats in use` };
      const inserted = await repos.ledger.assign({
        productId: product.id, email: p.email, requestId: null, disabledPlans, viaGroup: null, assignedBy: actor, assignedAt: now,
      });
      if (!inserted) return { outcome: 'already-assigned', reason: '' };
      assigned += 1;
      has.add(product.id);
      await repos.audit.record({
        actor, channel: 'cli', action: 'license-assigned', at: now,
        details: { productId: product.id, person: p.email, disabledPlans, group: input.group ?? null },
      });
      return { outcome: 'assigned', reason: disabledPlans.length ? `without ${disabledPlans.join(', ')}` : '' };
    });
    const counts = tally(results);
    const ok = results.every((r) => r.outcome === 'assigned' || r.outcome === 'already-assigned');
    const done = `${counts.assigned ?? 0} assigned, ${counts['already-assigned'] ?? 0} already had it, ${results.length - (counts.assigned ?? 0) - (counts['already-assigned'] ?? 0)} not assigned`;
    const seatsLine = counts['no-seats'] ? `; ${noSeatsMessage(product, assigned)}` : `; ${seatsLeft(product, assigned)} of ${product.seats} seats left`;
    return {
      action: 'assign', productId: product.id, productName: product.name, results, counts,
      seats: { total: product.seats, assigned, available: seatsLeft(product, assigned) },
      summary: `${product.name}: ${done}${seatsLine}.`,
      ok,
    };
  });
}

/** Takes a product back from many people, one result each; refused per person while another product they hold requires it. */
export async function revokeLicenses(store: Store, deps: LedgerDeps, input: BulkInput): Promise<BulkResult<RevokeOutcome>> {
  const rules = deps.rules();
  requireRole(rules, input.actor, 'revoke');
  const product = findProduct(rules, input.productId);
  if (input.disabledPlans?.length) throw new MailgrantError('invalid_input', '--disable-plans only applies to assign.');
  const people = resolvePeople(rules, input);
  const now = deps.clock();
  const actor = input.actor.trim().toLowerCase();

  return store.transaction(async (repos) => {
    await lockForAssignment(repos, rules, product);
    const held = await holdingsOf(repos, rules, product, people.flatMap((p) => (p.email ? [p.email] : [])));
    const results = await perPerson<RevokeOutcome>(people, held, input.onProgress, async (p, has) => {
      if (!has.has(product.id)) return { outcome: 'not-assigned', reason: '' };
      const problem = checkRevocation(rules, product, has);
      if (problem) return { outcome: 'still-required', reason: problem.reason };
      await repos.ledger.revoke(product.id, p.email);
      has.delete(product.id);
      await repos.audit.record({
        actor, channel: 'cli', action: 'license-revoked', at: now,
        details: { productId: product.id, person: p.email, group: input.group ?? null },
      });
      return { outcome: 'revoked', reason: '' };
    });
    const assigned = await repos.ledger.countAssigned(product.id);
    const counts = tally(results);
    const ok = results.every((r) => r.outcome === 'revoked' || r.outcome === 'not-assigned');
    return {
      action: 'revoke', productId: product.id, productName: product.name, results, counts,
      seats: { total: product.seats, assigned, available: seatsLeft(product, assigned) },
      summary: `${product.name}: ${counts.revoked ?? 0} revoked, ${counts['not-assigned'] ?? 0} did not have it, ${results.length - (counts.revoked ?? 0) - (counts['not-assigned'] ?? 0)} not revoked; ${seatsLeft(product, assigned)} of ${product.seats} seats left.`,
      ok,
    };
  });
}
