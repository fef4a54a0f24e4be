import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { simpleParser } from 'mailparser';
import nodemailer, { type SendMailOptions } from 'nodemailer';
import type { Env } from '../config/env.js';
import { MailgrantError } from '../shared/errors.js';

/**
 * `mailgrant send` and `mailgrant reply`: write to the SMTP intake the way a person's mail client
 * would, so the whole loop can be tried on a machine without a mail server or a mail client.
 */
function intakeTarget(env: Env, server: string | undefined): { host: string; port: number } {
  if (server) {
    const m = /^([^:]+):(\d+)$/.exec(server);
    if (!m) throw new MailgrantError('invalid_input', `--server expects host:port, got "${server}"`);
    return { host: m[1]!, port: Number(m[2]) };
  }
  if (!env.smtpIntake) throw new MailgrantError('invalid_input', 'The SMTP intake is off (SMTP_INTAKE=off); pass --server host:port.');
  return { host: env.smtpIntake.host === '0.0.0.0' ? '127.0.0.1' : env.smtpIntake.host, port: env.smtpIntake.port };
}

async function deliver(target: { host: string; port: number }, mail: SendMailOptions): Promise<string> {
  const t = nodemailer.createTransport({ host: target.host, port: target.port, secure: false, ignoreTLS: true });
  try {
    const info = await t.sendMail(mail);
    return info.messageId;
  } catch (err) {
    throw new MailgrantError('smtp_transient', `Could not deliver to ${target.host}:${target.port}: ${(err as Error).message}. Is "mailgrant start" running?`, { cause: err });
  } finally {
    t.close();
  }
}

export async function sendCommand(args: string[], env: Env, mailbox: string): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { from: { type: 'string' }, to: { type: 'string' }, subject: { type: 'string' }, text: { type: 'string' }, server: { type: 'string' } },
  });
  if (!values.from || !values.subject) throw new MailgrantError('invalid_input', 'Usage: mailgrant send --from alice@contoso.example --subject "Visio please" [--text "Also for: bob"] [--to ADDRESS] [--server host:port]');
  const id = await deliver(intakeTarget(env, values.server), {
    from: values.from, to: values.to ?? mailbox, subject: values.subject, text: values.text ?? '',
  });
  process.stdout.write(`sent ${id}\n`);
  return 0;
}

export async function replyCommand(args: string[], env: Env): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { from: { type: 'string' }, text: { type: 'string' }, server: { type: 'string' } },
    allowPositionals: true,
  });
  const file = positionals[0];
  if (!file || !values.text) throw new MailgrantError('invalid_input', 'Usage: mailgrant reply FILE.eml --text "approve all except bob" [--from ADDRESS] [--server host:port]');
  let original;
  try {
    original = await simpleParser(readFileSync(file));
  } catch (err) {
    throw new MailgrantError('invalid_input', `Cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  const replyTo = original.replyTo?.value[0]?.address ?? original.from?.value[0]?.address;
  const to = Array.isArray(original.to) ? original.to[0] : original.to;
  const from = values.from ?? to?.value[0]?.address;
  if (!replyTo || !from) throw new MailgrantError('invalid_input', `${file} has no Reply-To/From or To address to reply with.`);
  // Quote the original below the answer, as mail clients do, so the extractor is exercised too.
  const quoted = (original.text ?? '').split('\n').map((l) => `> ${l}`).join('\n');
  const date = (original.date ?? new Date()).toUTCString();
  const id = await deliver(intakeTarget(env, values.server), {
    from,
    to: replyTo,
    subject: /^re:/i.test(original.subject ?? '') ? original.subject : `Re: ${original.subject ?? ''}`,
    inReplyTo: original.messageId,
    references: original.messageId ? [original.messageId] : [],
    text: `${values.text}\n\nOn ${date}, ${original.from?.text ?? 'Mailgrant'} wrote:\n${quoted}\n`,
  });
  process.stdout.write(`replied to ${replyTo} as ${from} (${id})\n`);
  return 0;
}
