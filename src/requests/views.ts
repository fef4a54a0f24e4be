import type { Rules } from '../config/rules.js';
import type { RequestWithPeople } from '../db/repos/requests-repo.js';
import type { Common, PersonView, RequestView } from '../mail/outbound/mail-data.js';
import type { Locale } from '../shared/locale.js';

/** Turns stored rows into what mail templates show. */
export function personView(rules: Rules, email: string, name?: string | null): PersonView {
  return { email, name: name ?? rules.displayName(email) };
}

export function requestView(rules: Rules, r: RequestWithPeople): RequestView {
  const requester = r.people.find((p) => p.isRequester);
  return {
    number: r.id,
    productName: rules.product(r.productId)?.name ?? r.productId,
    requester: personView(rules, r.requesterEmail, requester?.name),
    createdAt: r.createdAt,
    people: r.people.map((p) => ({ email: p.email, name: p.name, verdict: p.verdict ?? null })),
  };
}

export function common(rules: Rules, to: string, locale?: Locale | null): Common {
  return {
    organization: { name: rules.organization.name, mailbox: rules.organization.mailbox },
    recipient: personView(rules, to),
    locale: rules.user(to)?.locale ?? locale ?? rules.organization.locale,
  };
}
