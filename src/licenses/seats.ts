import type { Rules } from '../config/rules.js';
import type { Store } from '../db/store.js';
import { requireRole } from '../requests/roles.js';
import { MailgrantError } from '../shared/errors.js';
import { seatsLeft } from './assignment-rules.js';
import { findProduct } from './products.js';

/** Seats per product, as `mailgrant licenses` shows them; and why Mailgrant does not change them. */
export interface LedgerLine {
  productId: string;
  name: string;
  seats: number;
  assigned: number;
  available: number;
  /** The vendor for third-party products whose seat count the vendor manages; null for ours. */
  vendor: string | null;
  purchaseUrl: string | null;
}

export async function licenseSummary(store: Store, rules: Rules): Promise<LedgerLine[]> {
  const counts = await store.repos.ledger.countsByProduct();
  return rules.products.map((p) => {
    const assigned = counts.get(p.id) ?? 0;
    return { productId: p.id, name: p.name, seats: p.seats, assigned, available: seatsLeft(p, assigned), vendor: p.vendor, purchaseUrl: p.purchaseUrl };
  });
}

/**
 * Seat counts are not Mailgrant's to change: ours come from the rules file, a vendor's from the
 * vendor. The command exists so that an admin who tries is told where to go instead.
 */
export function refuseSetSeats(rules: Rules, input: { productId: string | undefined; seats: string | undefined; actor: string | undefined }): never {
  requireRole(rules, input.actor, 'set-seats');
  const product = findProduct(rules, input.productId);
  const seats = Number(input.seats);
  if (input.seats === undefined || !Number.isInteger(seats) || seats < 0) {
    throw new MailgrantError('invalid_input', `--seats expects a whole number of seats, got "${input.seats ?? ''}".`);
  }
  if (product.vendor) {
    throw new MailgrantError('invalid_input', `seats of ${product.name} are managed by ${product.vendor}: contact the vendor`);
  }
  throw new MailgrantError(
    'invalid_input',
    `seats of ${product.name} come from the rules file: edit seats of ${product.id} in ${rules.source} (now ${product.seats}); the running daemon reloads it when it changes`,
  );
}
