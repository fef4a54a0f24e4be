import type { Rules } from '../config/rules.js';
import type { Store } from '../db/store.js';
import { MailgrantError } from '../shared/errors.js';

/** What `mailgrant requests` and `mailgrant request N` show: plain data, formatted by the CLI. */
export type StatusFilter = 'pending' | 'completed' | 'all';

export interface RequestSummary {
  number: number;
  productId: string;
  productName: string;
  requester: string;
  requesterName: string;
  requestedAt: Date;
  status: 'pending' | 'completed';
  completedAt: Date | null;
  people: number;
  approved: number;
  denied: number;
  undecided: number;
}

export function parseStatus(value: string | undefined): StatusFilter {
  const v = (value ?? 'all').trim().toLowerCase();
  if (v === 'pending' || v === 'completed' || v === 'all') return v;
  throw new MailgrantError('invalid_input', `--status expects pending, completed or all, got "${value}".`);
}

export function parseRequestNumber(value: string | undefined, usage: string): number {
  const n = Number(value?.replace(/^#/, ''));
  if (!value || !Number.isInteger(n) || n <= 0) throw new MailgrantError('invalid_input', `Give the request number: ${usage}`);
  return n;
}

/** Pending first, newest first: what an admin has to act on comes at the top. */
export async function listRequests(store: Store, rules: Rules, filter: { status?: StatusFilter; productId?: string; limit?: number }): Promise<RequestSummary[]> {
  let productId: string | undefined;
  if (filter.productId) {
    productId = filter.productId.trim().toLowerCase();
    if (!rules.product(productId)) {
      throw new MailgrantError('not_found', `No product with id "${filter.productId}" in ${rules.source} (products: ${rules.products.map((p) => p.id).join(', ')}).`);
    }
  }
  const rows = await store.repos.requests.list({ status: filter.status === 'all' ? undefined : filter.status, productId, limit: filter.limit });
  const people = await store.repos.requests.peopleOf(rows.map((r) => r.id));
  return rows.map((r) => {
    const mine = people.filter((p) => p.requestId === r.id);
    const requester = mine.find((p) => p.isRequester);
    return {
      number: r.id,
      productId: r.productId,
      productName: rules.product(r.productId)?.name ?? r.productId,
      requester: r.requesterEmail,
      requesterName: requester?.name ?? rules.displayName(r.requesterEmail),
      requestedAt: r.createdAt,
      status: r.status,
      completedAt: r.completedAt,
      people: mine.length,
      approved: mine.filter((p) => p.verdict === 'approve').length,
      denied: mine.filter((p) => p.verdict === 'deny').length,
      undecided: mine.filter((p) => !p.verdict).length,
    };
  });
}

export interface RequestDetail {
  number: number;
  productId: string;
  productName: string;
  alternativeProducts: { id: string; name: string }[];
  subject: string;
  requester: string;
  requestedAt: Date;
  status: 'pending' | 'completed';
  completedAt: Date | null;
  people: {
    email: string;
    name: string;
    isRequester: boolean;
    verdict: 'approve' | 'deny' | null;
    decidedBy: string | null;
    decidedAt: Date | null;
    channel: 'email' | 'cli' | null;
    comment: string | null;
    /** The admin's message that replaced the default outcome text (`decide --message`). */
    message: string | null;
    /** The seat this request gave the person, if any. */
    assignment: { productId: string; disabledPlans: string[]; viaGroup: string | null } | null;
  }[];
  shares: { recipient: string; sharedBy: string | null; subject: string | null; message: string | null; sharedAt: Date; expiresAt: Date }[];
  mails: { id: number; kind: string; to: string; subject: string; status: string; attempts: number; queuedAt: Date; sentAt: Date | null; lastError: string | null }[];
}

export async function requestDetail(store: Store, rules: Rules, id: number): Promise<RequestDetail> {
  const request = await store.repos.requests.get(id);
  if (!request) throw new MailgrantError('not_found', `Request ${id} does not exist.`);
  const [shares, mails, seats] = [
    await store.repos.shares.forRequest(id),
    await store.repos.outbox.forRequest(id),
    await store.repos.ledger.forRequest(id),
  ];
  return {
    number: request.id,
    productId: request.productId,
    productName: rules.product(request.productId)?.name ?? request.productId,
    alternativeProducts: request.alternativeProductIds.map((p) => ({ id: p, name: rules.product(p)?.name ?? p })),
    subject: request.subject,
    requester: request.requesterEmail,
    requestedAt: request.createdAt,
    status: request.status,
    completedAt: request.completedAt,
    people: request.people.map((p) => {
      const seat = seats.find((s) => s.email === p.email);
      return {
        email: p.email, name: p.name, isRequester: p.isRequester, verdict: p.verdict, decidedBy: p.decidedBy, decidedAt: p.decidedAt,
        channel: p.channel, comment: p.comment, message: p.outcomeMessage,
        assignment: seat ? { productId: seat.productId, disabledPlans: seat.disabledPlans, viaGroup: seat.viaGroup } : null,
      };
    }),
    shares: shares.map((s) => ({ recipient: s.recipientEmail, sharedBy: s.sharedBy, subject: s.subject, message: s.message, sharedAt: s.createdAt, expiresAt: s.expiresAt })),
    mails: mails.map((m) => ({
      id: m.id, kind: m.kind, to: m.toAddress, subject: m.subject, status: m.status, attempts: m.attempts, queuedAt: m.createdAt, sentAt: m.sentAt, lastError: m.lastError,
    })),
  };
}
