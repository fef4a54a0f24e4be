import type { Env } from '../config/env.js';
import { parseRequestNumber, requestDetail } from '../requests/request-queries.js';
import type { Logger } from '../shared/logger.js';
import { withCli } from './connect.js';
import { parseFlags } from './flags.js';
import { colourEnabled, formatTime, palette, table, toJson, type Palette } from './output.js';

const USAGE = 'mailgrant request N [--json]';
const CHANNEL = { email: 'email reply', cli: 'CLI' } as const;

function verdict(p: Palette, v: 'approve' | 'deny' | null): string {
  if (v === 'approve') return p.green('approved');
  if (v === 'deny') return p.red('denied');
  return p.yellow('undecided');
}

/** `mailgrant request N`: the people and each one's verdict, who decided, when and how; shares; mails. */
export async function requestCommand(args: string[], env: Env, logger: Logger): Promise<number> {
  const { values, positionals } = parseFlags(args, { json: { type: 'boolean' } }, USAGE);
  const id = parseRequestNumber(positionals[0], USAGE);
  const d = await withCli(env, logger, (cli) => requestDetail(cli.store, cli.rules, id));
  if (values.json) {
    process.stdout.write(toJson(d));
    return 0;
  }
  const p = palette(colourEnabled());
  const out: string[] = [];
  out.push(`${p.bold(`Request #${d.number}`)}: ${d.productName} (${d.productId}) for ${d.requester}, ${d.status === 'pending' ? p.yellow('pending') : p.green('completed')}`);
  out.push(`Requested ${formatTime(d.requestedAt)}${d.completedAt ? `, completed ${formatTime(d.completedAt)}` : ''}${d.subject ? ` — "${d.subject}"` : ''}`);
  if (d.alternativeProducts.length) out.push(`Also matched: ${d.alternativeProducts.map((a) => `${a.name} (${a.id})`).join(', ')} — choose with: mailgrant decide ${d.number} --product ID …`);
  out.push('', p.bold('People'));
  out.push(
    table(
      ['Person', 'Verdict', 'Decided by', 'When', 'Channel', 'Comment or message', 'Seat'],
      d.people.map((x) => [
        `${x.name} <${x.email}>${x.isRequester ? ' (requester)' : ''}`,
        verdict(p, x.verdict),
        x.decidedBy ?? '',
        formatTime(x.decidedAt),
        x.channel ? CHANNEL[x.channel] : '',
        x.message ? `message: ${x.message}` : (x.comment ?? ''),
        x.assignment
          ? [x.assignment.viaGroup ? `via group ${x.assignment.viaGroup}` : 'assigned', x.assignment.disabledPlans.length ? `without ${x.assignment.disabledPlans.join(', ')}` : '']
              .filter(Boolean)
              .join(', ')
          : '',
      ]),
      p,
    ).trimEnd(),
  );
  out.push('', p.bold('Shared with'));
  out.push(
    d.shares.length === 0
      ? '(nobody)'
      : table(
          ['Recipient', 'Shared by', 'When', 'Reply address valid until', 'Subject'],
          d.shares.map((s) => [s.recipient, s.sharedBy ?? 'automatically (approver)', formatTime(s.sharedAt), formatTime(s.expiresAt), s.subject ?? '']),
          p,
        ).trimEnd(),
  );
  out.push('', p.bold('Mails'));
  out.push(
    d.mails.length === 0
      ? '(none)'
      : table(
          ['#', 'Kind', 'To', 'Status', 'Queued', 'Sent'],
          d.mails.map((m) => [String(m.id), m.kind, m.to, m.status === 'failed' ? p.red(`failed: ${m.lastError ?? ''}`) : m.status, formatTime(m.queuedAt), formatTime(m.sentAt)]),
          p,
        ).trimEnd(),
  );
  process.stdout.write(`${out.join('\n')}\n`);
  return 0;
}
