import type { Locale } from '../../shared/locale.js';
export const MAIL_KINDS = ['acknowledgement','shared-request','receipt','unclear-reply','outcome-approved','outcome-denied','own-process','unknown-product','unknown-people','not-in-directory','duplicate-request','seats-missing','not-authorized','unreadable','admin-alert'] as const;
export type MailKind = (typeof MAIL_KINDS)[number];
export interface PersonView { email: string; name: string }
export interface RequestView { number: number; productName: string; requester: PersonView; createdAt: Date; people: (PersonView & { verdict: 'approve' | 'deny' | null })[] }
export interface Common { organization: { name: string; mailbox: string }; recipient: PersonView; locale: Locale }
export interface MailDataByKind {
  'acknowledgement': Common & { request: RequestView };
  'shared-request': Common & { request: RequestView; seatsLeft: number; seatsTotal: number; replyAddress: string; sharedBy: PersonView | null; customSubject: string | null; personalMessage: string | null };
  'receipt': Common & { request: RequestView; recorded: { person: PersonView; verdict: 'approve' | 'deny' }[]; alreadyDecided: { person: PersonView; verdict: 'approve' | 'deny'; by: string }[]; waitingForSeats: PersonView[]; comment: string | null; completed: boolean };
  'unclear-reply': Common & { request: RequestView; reason: UnclearReasonView; keptText: string };
  /** `message`, when set (an admin's `decide --message`), replaces the default text. */
  'outcome-approved': Common & { request: RequestView; person: PersonView; decidedBy: PersonView; comment: string | null; message: string | null; isRequester: boolean };
  'outcome-denied': Common & { request: RequestView; person: PersonView; decidedBy: PersonView; comment: string | null; message: string | null; isRequester: boolean };
  'own-process': Common & { message: string; link: string | null };
  'unknown-product': Common & { catalogue: { name: string; aliases: string[] }[]; subjectLine: string };
  'unknown-people': Common & { productName: string; names: string[] };
  'not-in-directory': Common & { subjectLine: string };
  'duplicate-request': Common & { request: RequestView };
  'seats-missing': Common & { request: RequestView; missing: number; waiting: PersonView[]; purchaseUrl: string | null };
  'not-authorized': Common & { request: RequestView | null; reason: 'not-recipient' | 'forwarded' | 'expired' | 'completed' | 'unauthenticated'; replier: string };
  /**
   * A message that could not be read, so nothing was done with it and it should be sent again:
   * it arrived damaged or cut off, or (`limitMb` set) it was over the size limit.
   */
  'unreadable': Common & { subjectLine: string; limitMb: number | null };
  'admin-alert': Common & { title: string; lines: string[] };
}
export type UnclearReasonView =
  | { code: 'empty' } | { code: 'no_command'; text: string } | { code: 'negation'; phrase: string }
  | { code: 'unknown_name'; name: string } | { code: 'ambiguous_name'; name: string; matches: string[] }
  | { code: 'conflict'; email: string } | { code: 'nobody_pending' };
export interface RenderedMail { subject: string; html: string; text: string }
