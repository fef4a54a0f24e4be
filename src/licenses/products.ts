import type { Product, Rules } from '../config/rules.js';
import { MailgrantError } from '../shared/errors.js';

/** A product and service plans as an admin names them on the command line, checked against the rules. */
export function findProduct(rules: Rules, productId: string | undefined): Product {
  if (!productId) throw new MailgrantError('invalid_input', `Name the product with --product ID (one of ${rules.products.map((p) => p.id).join(', ')}).`);
  const product = rules.product(productId.trim().toLowerCase());
  if (!product) {
    throw new MailgrantError('not_found', `No product with id "${productId}" in ${rules.source} (products: ${rules.products.map((p) => p.id).join(', ')}).`);
  }
  return product;
}

export function validatePlans(product: Product, plans: readonly string[] | undefined): string[] {
  const list = [...new Set((plans ?? []).map((p) => p.trim()).filter(Boolean))];
  const unknown = list.filter((p) => !product.servicePlans.includes(p));
  if (unknown.length > 0) {
    const known = product.servicePlans.length > 0 ? `its plans are ${product.servicePlans.join(', ')}` : 'it has no service plans';
    throw new MailgrantError('invalid_input', `${unknown.join(', ')} ${unknown.length > 1 ? 'are not service plans' : 'is not a service plan'} of ${product.name}: ${known}.`);
  }
  if (list.length > 0 && list.length === product.servicePlans.length) {
    throw new MailgrantError('invalid_input', `Turning off every service plan of ${product.name} leaves nothing to assign; leave at least one on.`);
  }
  return list;
}
