import type { Env } from '../config/env.js';
import { MailgrantError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { withCli } from './connect.js';
import { parseFlags } from './flags.js';
import { colourEnabled, formatTime, palette, table, toJson } from './output.js';
import { parseRequestNumber } from '../requests/request-queries.js';

const USAGE = 'mailgrant audit [--request N] [--since DATE] [--json]';

function parseSince(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new MailgrantError('invalid_input', `--since expects a date such as 2026-11-20 or 2026-11-20T15:00:00Z, got "${value}".`);
  return new Date(t);
}

function compact(details: Record<string, unknown>): string {
  const text = Object.entries(details)
    .filter(([, v]) => v !== null && v !== undefined && !(Array.isArray(v) && v.length === 0))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return text.length > 120 ? `${text.slice(0, 119)}…` : text;
}

/** `mailgrant audit`: who did what, when, through which channel, with the evidence. */
export async function auditCommand(args: string[], env: Env, logger: Logger): Promise<number> {
  const { values } = parseFlags(args, { request: { type: 'string' }, since: { type: 'string' }, json: { type: 'boolean' } }, USAGE);
  const requestId = values.request === undefined ? undefined : parseRequestNumber(values.request, USAGE);
  const since = parseSince(values.since);
  const rows = await withCli(env, logger, (cli) => cli.store.repos.audit.list({ requestId, since }));
  if (values.json) {
    process.stdout.write(toJson(rows));
    return 0;
  }
  if (rows.length === 0) {
    process.stdout.write('No audit entries.\n');
    return 0;
  }
  const p = palette(colourEnabled());
  process.stdout.write(
    table(
      ['Time', 'Actor', 'Channel', 'Action', 'Request', 'Details'],
      rows.map((r) => [formatTime(r.at), r.actor, r.channel, r.action, r.requestId === null ? '' : `#${r.requestId}`, compact(r.details)]),
      p,
    ),
  );
  return 0;
}
