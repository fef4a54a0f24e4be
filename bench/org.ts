/**
 * The benchmark's organisation and mails. Every request is for one person (the requester alone),
 * so an "approve" completes it: one outcome mail to the requester and one receipt to Dana, the
 * only approver. Requests need distinct (requester, product) pairs (one pending request per
 * pair), hence a directory of ~1,000 people and a dozen products with seats for everyone.
 */
import { buildMail, quoteBelow } from '../test/helpers/mail.js';

export const MAILBOX = 'licenses@contoso.example';
export const DOMAIN = 'contoso.example';
export const APPROVER = { email: 'dana@contoso.example', name: 'Dana Lee' };

const PRODUCTS = [
  'Visio Plan 2', 'Acme Diagrams', 'Figma Professional', 'JetBrains All Products Pack', 'Adobe Acrobat Pro', 'Miro Business',
  'Tableau Creator', 'AutoCAD LT', 'Zoom Workplace', 'Postman Enterprise', 'Notion Plus', 'Lucidchart Team',
] as const;
const FIRST = ['Alice', 'Bruno', 'Chen', 'Dara', 'Emil', 'Farah', 'Goran', 'Hana', 'Ines', 'Jonas', 'Kaori', 'Liam', 'Maya', 'Nils', 'Olga', 'Pedro', 'Quinn', 'Rosa', 'Sami', 'Tara', 'Umar', 'Vera', 'Wim', 'Xiu', 'Yara'];
const LAST = ['Abbott', 'Berger', 'Costa', 'Dubois', 'Eriksen', 'Fischer', 'Garcia', 'Horvat', 'Ivanova', 'Jensen', 'Kowalski', 'Larsen', 'Moreau', 'Novak', 'Okafor', 'Petrov', 'Quintana', 'Rossi', 'Schmidt', 'Tanaka', 'Ueda', 'Varga', 'Weber', 'Xavier', 'Yilmaz', 'Zhang', 'Almeida', 'Brennan', 'Castillo', 'Duarte', 'Engel', 'Ferreira', 'Gallo', 'Hughes', 'Ibarra', 'Jovanovic', 'Keller', 'Lindqvist', 'Marsh', 'Nakamura'];

export interface Person { email: string; name: string }
export interface Product { id: string; name: string }

export interface Org {
  yaml: string;
  products: Product[];
  users: Person[];
  /** The k-th distinct (requester, product) pair: consecutive pairs use different products. */
  pair(k: number): { user: Person; product: Product };
  pairs: number;
}

export function makeOrg(pairsNeeded: number): Org {
  const products: Product[] = PRODUCTS.map((name) => ({ id: name.toLowerCase().replace(/[^a-z0-9]+/g, '-'), name }));
  const userCount = Math.max(1, Math.ceil(pairsNeeded / products.length));
  const users: Person[] = Array.from({ length: userCount }, (_, i) => ({
    email: `u${String(i + 1).padStart(5, '0')}@${DOMAIN}`,
    name: `${FIRST[i % FIRST.length]} ${LAST[Math.floor(i / FIRST.length) % LAST.length]} ${i + 1}`,
  }));
  const seats = pairsNeeded + 1000;
  const yaml = [
    'organization: { name: Contoso, mailbox: licenses@contoso.example, locale: en }',
    'admins:',
    `  - { email: ${APPROVER.email}, role: license-admin }`,
    'directory:',
    '  users:',
    `    - { email: ${APPROVER.email}, name: ${APPROVER.name} }`,
    ...users.map((u) => `    - { email: ${u.email}, name: "${u.name}", locale: en }`),
    'products:',
    ...products.map((p) => `  - { id: ${p.id}, name: "${p.name}", seats: ${seats}, approvers: [${APPROVER.email}] }`),
    '',
  ].join('\n');
  return {
    yaml, products, users,
    pairs: users.length * products.length,
    pair(k) {
      if (k >= users.length * products.length) throw new Error(`benchmark organisation has only ${users.length * products.length} requester/product pairs`);
      return { user: users[Math.floor(k / products.length)]!, product: products[k % products.length]! };
    },
  };
}

/** A request mail as a person would write it: the product in the subject and the body, no one else named. */
export function requestMail(user: Person, product: Product): Promise<Buffer> {
  return buildMail({
    from: `${user.name} <${user.email}>`,
    to: MAILBOX,
    subject: `${product.name} licence`,
    text: `Hello,\n\nI need a ${product.name} licence for my work, please.\n\nThanks,\n${user.name.split(' ')[0]}\n`,
  });
}

/** What a reply quotes and threads on: the shared-request mail as the approver received it. */
export interface ShareMail {
  token: string;
  messageId: string;
  subject: string;
  text: string;
  html: string;
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * "approve" as Gmail sends it: multipart/alternative, the answer on top, the original below
 * (`> ` quoted in the text part, in div.gmail_quote > blockquote in the HTML part), threaded
 * with In-Reply-To and References, to the personal reply address.
 */
export function replyMail(share: ShareMail, answer = 'approve'): Promise<Buffer> {
  const attribution = `On Fri, 20 Nov 2026 at 15:04, Contoso <${MAILBOX}> wrote:`;
  const body = /<body[^>]*>([\s\S]*)<\/body>/i.exec(share.html)?.[1] ?? share.html;
  const html =
    `<div dir="ltr">${escapeHtml(answer)}</div><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">${escapeHtml(attribution)}<br></div>` +
    `<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex">${body}</blockquote></div>`;
  return buildMail({
    from: `${APPROVER.name} <${APPROVER.email}>`,
    to: `licenses+${share.token}@${DOMAIN}`,
    subject: `Re: ${share.subject}`,
    inReplyTo: share.messageId,
    references: [share.messageId],
    text: quoteBelow(answer, share.text, `Contoso <${MAILBOX}>`),
    html,
  });
}
