import type { Env } from '../config/env.js';
import { listRequests, parseStatus } from '../requests/request-queries.js';
import type { Logger } from '../shared/logger.js';
import { withCli } from './connect.js';
import { parseFlags } from './flags.js';
import { colourEnabled, formatTime, palette, table, toJson } from './output.js';

const USAGE = 'mailgrant requests [--status pending|completed|all] [--product ID] [--json]';

/** `mailgrant requests`: every request, pending first, newest first. */
export async function requestsCommand(args: string[], env: Env, logger: Logger): Promise<number> {
  const { values } = parseFlags(args, { status: { type: 'string' }, product: { type: 'string' }, json: { type: 'boolean' } }, USAGE);
  const status = parseStatus(values.status);
  const rows = await withCli(env, logger, (cli) => listRequests(cli.store, cli.rules, { status, productId: values.product }));
  if (values.json) {
    process.stdout.write(toJson(rows));
    return 0;
  }
  if (rows.length === 0) {
    process.stdout.write(`No ${status === 'all' ? '' : `${status} `}requests.\n`);
    return 0;
  }
  const p = palette(colourEnabled());
  process.stdout.write(
    table(
      ['#', 'Product', 'Requester', 'Requested', 'Status', 'People'],
      rows.map((r) => [
        String(r.number),
        r.productName,
        `${r.requesterName} <${r.requester}>`,
        formatTime(r.requestedAt),
        r.status === 'pending' ? p.yellow('pending') : p.green('completed'),
        `${r.people} (${r.approved} approved, ${r.denied} denied, ${r.undecided} undecided)`,
      ]),
      p,
    ),
  );
  return 0;
}
