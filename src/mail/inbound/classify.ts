import type { InboundMessage } from './parse.js';

/**
 * Automatic mail is never answered and never decides. These checks run before anything else;
 * each follows a published convention (RFC 3834 Auto-Submitted, RFC 2919/2369 List-*, RFC 3462
 * multipart/report, RFC 5321 null reverse-path) or a habit of widely used software.
 */
export type Classification =
  | { kind: 'human' }
  | { kind: 'automatic'; reason: string };

const AUTOMATIC_SENDERS = /^(?:mailer-daemon|postmaster|no-?reply|do-?not-?reply|bounces?|auto-?reply|autoresponder|listserv|majordomo)(?:[+.-][^@]{0,64})?@/i;

/** Out-of-office subjects seen from Exchange, Gmail, Apple and Zimbra in the languages we serve and beyond. */
const OUT_OF_OFFICE_SUBJECTS: readonly RegExp[] = [
  /^\s{0,4}(?:automatic reply|auto(?:matic)?[ -]?reply|auto-?response|out of (?:the )?office|ooo\b|away from (?:the )?office|on vacation|vacation reply)/i,
  /^\s{0,4}(?:réponse automatique|absence du bureau|absent(?:e)? du bureau|message d'absence|répondeur)/i,
  /^\s{0,4}(?:自動回覆|自動答覆|自动回复|外出|不在辦公室|休假中)/,
  /^\s{0,4}(?:automatische antwort|abwesenheitsnotiz|abwesend|nicht im büro)/i,
  /^\s{0,4}(?:respuesta automática|fuera de la oficina|ausente de la oficina|respuesta de ausencia)/i,
];

export function classify(msg: InboundMessage, ownAddresses: readonly string[]): Classification {
  const h = msg.headers;
  if (msg.contentType.startsWith('multipart/report')) return { kind: 'automatic', reason: 'delivery or disposition report' };
  if (msg.returnPath !== null && msg.returnPath === '') return { kind: 'automatic', reason: 'empty Return-Path' };
  const autoSubmitted = h.get('auto-submitted');
  if (autoSubmitted && autoSubmitted.trim().toLowerCase() !== 'no') return { kind: 'automatic', reason: `Auto-Submitted: ${autoSubmitted.trim()}` };
  const precedence = h.get('precedence')?.trim().toLowerCase();
  if (precedence && ['bulk', 'junk', 'list', 'auto_reply'].includes(precedence)) return { kind: 'automatic', reason: `Precedence: ${precedence}` };
  for (const name of h.keys()) {
    if (name.startsWith('list-')) return { kind: 'automatic', reason: `${name} header` };
  }
  for (const name of ['x-autoreply', 'x-autorespond', 'x-autoresponse', 'x-auto-response-suppress-reply']) {
    if (h.has(name)) return { kind: 'automatic', reason: `${name} header` };
  }
  if (!msg.from) return { kind: 'automatic', reason: 'no From address' };
  if (AUTOMATIC_SENDERS.test(msg.from)) return { kind: 'automatic', reason: `sender ${msg.from}` };
  const own = ownAddresses.map((a) => a.toLowerCase());
  const [ownLocal, ownDomain] = (own[0] ?? '').split('@');
  if (own.includes(msg.from) || (ownLocal && msg.from.startsWith(`${ownLocal}+`) && msg.from.endsWith(`@${ownDomain}`))) {
    return { kind: 'automatic', reason: 'sent by Mailgrant itself' };
  }
  if (h.has('x-mailgrant-kind')) return { kind: 'automatic', reason: 'a Mailgrant mail' };
  const subject = msg.subject.slice(0, 200);
  if (OUT_OF_OFFICE_SUBJECTS.some((re) => re.test(subject))) return { kind: 'automatic', reason: 'out-of-office subject' };
  return { kind: 'human' };
}
