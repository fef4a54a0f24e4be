import type { Product, Rules } from '../config/rules.js';

/**
 * The checks every seat goes through, whether it is handed out by an approval (email or CLI) or
 * by `mailgrant licenses assign`: free of the database, so the same rules apply on every path.
 * The callers load what a person holds and count seats under the product locks (see ledger.ts).
 */
export type AssignmentProblemCode = 'missing_required' | 'conflicting_product' | 'no_seats';

export interface AssignmentProblem {
  readonly code: AssignmentProblemCode;
  /** A short phrase for a result line or a mail: "needs Visio Plan 2 first". */
  readonly reason: string;
}

/**
 * Products whose assignments decide whether `product` may be assigned or revoked: what it
 * requires, what it conflicts with (declared on either side) and what requires it. Locking all
 * of them, in a fixed order, keeps two concurrent assignments from both passing a conflict check.
 */
export function relatedProductIds(rules: Rules, product: Product): string[] {
  const ids = new Set<string>([product.id, ...product.requires, ...product.conflictsWith]);
  for (const other of rules.products) {
    if (other.conflictsWith.includes(product.id) || other.requires.includes(product.id)) ids.add(other.id);
  }
  // Sorted: every caller takes the locks in the same order, so two callers never deadlock.
  return [...ids].sort();
}

/** Products that cannot be held together with `product`, whichever side declared the conflict. */
export function conflictsOf(rules: Rules, product: Product): string[] {
  const ids = new Set(product.conflictsWith);
  for (const other of rules.products) if (other.conflictsWith.includes(product.id)) ids.add(other.id);
  ids.delete(product.id);
  return [...ids];
}

const nameOf = (rules: Rules, id: string) => rules.product(id)?.name ?? id;

/** Whether a person holding `held` may get `product`; seats are checked separately (seatsLeft). */
export function checkAssignment(rules: Rules, product: Product, held: ReadonlySet<string>): AssignmentProblem | null {
  const missing = product.requires.filter((id) => !held.has(id));
  if (missing.length > 0) {
    return { code: 'missing_required', reason: `needs ${missing.map((id) => nameOf(rules, id)).join(' and ')} first` };
  }
  const conflicting = conflictsOf(rules, product).filter((id) => held.has(id));
  if (conflicting.length > 0) {
    return { code: 'conflicting_product', reason: `has ${conflicting.map((id) => nameOf(rules, id)).join(' and ')}, which cannot be combined with ${product.name}` };
  }
  return null;
}

/** Whether `product` may be taken from a person holding `held`: not while another product they hold requires it. */
export function checkRevocation(rules: Rules, product: Product, held: ReadonlySet<string>): AssignmentProblem | null {
  const dependants = rules.products.filter((p) => p.id !== product.id && held.has(p.id) && p.requires.includes(product.id));
  if (dependants.length === 0) return null;
  return { code: 'missing_required', reason: `still has ${dependants.map((p) => p.name).join(' and ')}, which requires ${product.name}` };
}

export function seatsLeft(product: Product, assigned: number): number {
  return Math.max(0, product.seats - assigned);
}

/**
 * The sentence for "no seat left": who to ask for more. For a vendor-managed product that is the
 * vendor; otherwise the purchase link when there is one, else the rules file.
 */
export function noSeatsMessage(product: Product, assigned: number): string {
  const base = `No seats left for ${product.name} (${assigned} of ${product.seats} assigned)`;
  if (product.purchaseUrl) return `${base}: buy more at ${product.purchaseUrl}`;
  if (product.vendor) return `${base}: ask ${product.vendor} for more seats`;
  return `${base}: add seats in the rules file`;
}
