import type { Store } from '../db/store.js';
import { MailgrantError } from '../shared/errors.js';
import type { DomainDeps } from './deps.js';
import { lookupPerson } from './name-lookup.js';
import { requireRole } from './roles.js';
import { shareRequest } from './sharing.js';

/**
 * `mailgrant share`: an admin shares one request with people of the directory, with a subject
 * and message of their own. Each recipient gets a reply token of their own, valid for this
 * request only, so they can decide it by reply without any admin role. Either every recipient is
 * known and all are sent, or nothing is sent and the unknown ones are named.
 */
export interface AdminShareInput {
  requestId: number;
  to: readonly string[];
  actor: string | undefined;
  subject?: string;
  message?: string;
}

export interface AdminShareResult {
  requestId: number;
  recipients: string[];
}

export async function shareAsAdmin(store: Store, deps: DomainDeps, input: AdminShareInput): Promise<AdminShareResult> {
  const rules = deps.rules();
  const admin = requireRole(rules, input.actor, 'share');
  if (input.to.length === 0) throw new MailgrantError('invalid_input', 'Name the recipients with --to a@example.org,b@example.org.');
  const subject = input.subject?.trim() || null;
  if (subject && (/[\r\n]/.test(subject) || subject.length > 200)) {
    throw new MailgrantError('invalid_input', '--subject must be one line of at most 200 characters.');
  }
  const message = input.message?.trim() || null;
  if (message && message.length > 5_000) throw new MailgrantError('invalid_input', '--message is limited to 5000 characters.');

  // Admins who are not in directory.users are people of the organisation too.
  const known = [...rules.users, ...rules.admins.filter((a) => !rules.user(a.email))];
  const recipients: string[] = [];
  const unresolved: string[] = [];
  for (const item of input.to) {
    const found = lookupPerson(known, item);
    if (found.kind === 'found') {
      if (!recipients.includes(found.person.email)) recipients.push(found.person.email);
    } else if (found.kind === 'ambiguous') {
      unresolved.push(`${item} (matches ${found.matches.map((m) => m.email).join(' and ')})`);
    } else {
      unresolved.push(item);
    }
  }
  if (unresolved.length > 0) {
    throw new MailgrantError('invalid_input', `Not in the directory: ${unresolved.join(', ')}. Nothing was sent.`, { details: { unresolved } });
  }

  await store.transaction(async (repos) => {
    const request = await repos.requests.get(input.requestId, { forUpdate: true });
    if (!request) throw new MailgrantError('not_found', `Request ${input.requestId} does not exist.`);
    if (request.status === 'completed') throw new MailgrantError('invalid_input', `Request ${request.id} is already completed; there is nothing left to decide.`);
    await shareRequest(repos, deps, { request, recipients, sharedBy: admin.email, subject, message, channel: 'cli' });
  });
  return { requestId: input.requestId, recipients };
}
