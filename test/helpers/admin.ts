import { sql } from 'drizzle-orm';
import type { App } from '../../src/app.js';
import { parseRules, type Rules } from '../../src/config/rules.js';
import { buildMail, quoteBelow } from './mail.js';

/**
 * An organisation for the admin console tests: three admins (one per role), people who are not
 * admins, a group that carries Visio Plan 2, a Visio Plan 1 that conflicts with it, a
 * vendor-managed product with two seats and an add-on that requires it.
 */
export const ADMIN_RULES_YAML = `
organization: { name: Contoso, mailbox: licenses@contoso.example, locale: en }
admins:
  - { email: dana@contoso.example, role: license-admin }
  - { email: gary@contoso.example, role: global-admin }
  - { email: ursula@contoso.example, role: user-admin }
directory:
  users:
    - { email: dana@contoso.example, name: Dana Lee }
    - { email: gary@contoso.example, name: Gary Green }
    - { email: ursula@contoso.example, name: Ursula Urban }
    - { email: alice@contoso.example, name: Alice Wong }
    - { email: bob@contoso.example, name: Bob Smith }
    - { email: carol@contoso.example, name: Carol Jones }
    - { email: erin@contoso.example, name: Erin Park }
    - { email: frank@contoso.example, name: Frank Moss }
    - { email: remi@contoso.example, name: Rémi Durand, locale: fr }
  groups:
    - { name: Visio Users, members: [alice@contoso.example, bob@contoso.example] }
    - { name: Designers, members: [carol@contoso.example, erin@contoso.example, frank@contoso.example] }
products:
  - id: visio-plan-2
    name: Visio Plan 2
    aliases: [visio]
    seats: 10
    servicePlans: [visio-web, visio-desktop, visio-ai]
    approvers: [dana@contoso.example]
    securityGroup: Visio Users
    purchaseUrl: https://store.example/visio
  - { id: visio-plan-1, name: Visio Plan 1, seats: 3, servicePlans: [visio-web], approvers: [dana@contoso.example], conflictsWith: [visio-plan-2] }
  - { id: acme-diagrams, name: Acme Diagrams, vendor: Acme Corp, seats: 2, approvers: [dana@contoso.example], purchaseUrl: https://acme.example/buy }
  - { id: acme-addon, name: Acme Addon, seats: 5, approvers: [dana@contoso.example], requires: [acme-diagrams] }
`;

export const adminRules = (patch: (yaml: string) => string = (y) => y): Rules => parseRules(patch(ADMIN_RULES_YAML), 'admin test rules');

/** Empties every table between tests that share one app (creating a PGlite takes seconds). */
export async function resetDatabase(app: App): Promise<void> {
  await app.db.db.execute(
    sql`truncate table requests, request_people, shares, assignments, outbox, audit_log, inbound_messages, auto_replies restart identity cascade`,
  );
}

const MAILBOX = 'licenses@contoso.example';

/** A request mail through the real pipeline; returns the request number. */
export async function requestByMail(app: App, from: string, subject: string, text = ''): Promise<number> {
  const r = await app.pipeline.handle(await buildMail({ from, to: MAILBOX, subject, text }), { source: 'smtp' });
  if (r.action !== 'request-created' || !r.requestId) throw new Error(`expected a request, got ${JSON.stringify(r)}`);
  return r.requestId;
}

/** A reply through the real pipeline, as the reply token's owner (or anyone) would send it. */
export async function replyByMail(app: App, from: string, token: string, answer: string) {
  return app.pipeline.handle(
    await buildMail({ from, to: `licenses+${token}@contoso.example`, subject: 'Re: Licence request', text: quoteBelow(answer, 'the shared request') }),
    { source: 'smtp' },
  );
}
