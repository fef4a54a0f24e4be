import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Env } from '../config/env.js';
import { loadRules } from '../config/rules.js';
import { extractReply } from '../mail/inbound/extract-reply.js';
import { parseMessage } from '../mail/inbound/parse.js';
import { describeUnclear } from '../requests/describe-unclear.js';
import { interpretReply } from '../requests/reply-grammar/index.js';
import { MailgrantError } from '../shared/errors.js';

/**
 * `mailgrant explain FILE.eml --users a@x,b@x`: how Mailgrant would read that reply for a request
 * with those people, as one JSON object, so an admin can see why a reply was or was not understood.
 */
export async function explainCommand(args: string[], env: Env): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { users: { type: 'string' } }, allowPositionals: true });
  const file = positionals[0];
  if (!file) throw new MailgrantError('invalid_input', 'Usage: mailgrant explain FILE.eml --users a@example.org,b@example.org');
  if (!values.users) throw new MailgrantError('invalid_input', 'Name the people on the request with --users a@example.org,b@example.org');
  let raw: Buffer;
  try {
    raw = readFileSync(file);
  } catch (err) {
    throw new MailgrantError('invalid_input', `Cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  // Directory names make "approve alice" resolvable; without a rules file, addresses still work.
  const { rules } = loadRules(env.rulesFile);
  const emails = values.users.split(',').map((u) => u.trim().toLowerCase()).filter(Boolean);
  const people = emails.map((email) => ({ email, name: rules.user(email)?.name ?? null, pending: true }));
  const msg = await parseMessage(raw);
  const extraction = extractReply({ text: msg.text, html: msg.html });
  const result = interpretReply(extraction.text, people);
  const out =
    result.kind === 'decision'
      ? { kind: 'decision', decisions: result.decisions, comment: result.comment, language: result.language, text: result.text }
      : { kind: 'unclear', decisions: [], reason: describeUnclear(result.reason), reasonCode: result.reason.code, language: result.language, text: result.text };
  process.stdout.write(`${JSON.stringify(out)}\n`);
  return 0;
}
