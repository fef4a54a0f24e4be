import type { Env } from '../config/env.js';
import { noSeatsMessage } from '../licenses/assignment-rules.js';
import { assignLicenses, outcomeText, revokeLicenses, type BulkResult } from '../licenses/ledger.js';
import { licenseSummary, refuseSetSeats } from '../licenses/seats.js';
import { listFlag } from '../requests/name-lookup.js';
import { MailgrantError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { withCli } from './connect.js';
import { parseFlags } from './flags.js';
import { colourEnabled, palette, progress, table, toJson } from './output.js';

const USAGE = `mailgrant licenses [--json]
       mailgrant licenses assign --product ID (--users a,b,c | --group NAME) [--disable-plans x,y] --as ADMIN [--json]
       mailgrant licenses revoke --product ID (--users a,b,c | --group NAME) --as ADMIN [--json]
       mailgrant licenses set-seats --product ID --seats N --as ADMIN`;

const GOOD = new Set(['assigned', 'already-assigned', 'revoked', 'not-assigned']);

/** `mailgrant licenses …`: the ledger, and bulk assignment and revocation. */
export async function licensesCommand(args: string[], env: Env, logger: Logger): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub.startsWith('-')) return list(args, env, logger);
  if (sub === 'assign' || sub === 'revoke') return bulk(sub, rest, env, logger);
  if (sub === 'set-seats') {
    const { values } = parseFlags(rest, { product: { type: 'string' }, seats: { type: 'string' }, as: { type: 'string' } }, USAGE);
    return withCli(env, logger, async (cli) => refuseSetSeats(cli.rules, { productId: values.product, seats: values.seats, actor: values.as }));
  }
  throw new MailgrantError('invalid_input', `Unknown licenses command "${sub}". Usage: ${USAGE}`);
}

async function list(args: string[], env: Env, logger: Logger): Promise<number> {
  const { values } = parseFlags(args, { json: { type: 'boolean' } }, USAGE);
  const lines = await withCli(env, logger, (cli) => licenseSummary(cli.store, cli.rules));
  if (values.json) {
    process.stdout.write(toJson(lines));
    return 0;
  }
  const p = palette(colourEnabled());
  process.stdout.write(
    table(
      ['Product', 'Name', 'Seats', 'Assigned', 'Available', 'Managed by'],
      lines.map((l) => [
        l.productId,
        l.name,
        String(l.seats),
        l.assigned > l.seats ? p.red(`${l.assigned} (over by ${l.assigned - l.seats})`) : String(l.assigned),
        l.available === 0 ? p.red('0') : String(l.available),
        l.vendor ? `${l.vendor} (vendor)` : 'rules file',
      ]),
      p,
    ),
  );
  return 0;
}

async function bulk(action: 'assign' | 'revoke', args: string[], env: Env, logger: Logger): Promise<number> {
  const { values } = parseFlags(
    args,
    { product: { type: 'string' }, users: { type: 'string' }, group: { type: 'string' }, 'disable-plans': { type: 'string' }, as: { type: 'string' }, json: { type: 'boolean' } },
    USAGE,
  );
  const bar = progress(action === 'assign' ? 'assigning' : 'revoking');
  const input = {
    productId: values.product ?? '',
    users: values.users === undefined ? undefined : listFlag(values.users),
    group: values.group,
    disabledPlans: listFlag(values['disable-plans']),
    actor: values.as ?? '',
    onProgress: (done: number, total: number) => bar.update(done, total),
  };
  const { result, seatsMessage } = await withCli(env, logger, async (cli) => {
    // No mail here: the ledger needs the rules and a clock only, not the templates.
    const deps = { rules: () => cli.rules, clock: () => new Date() };
    const r: BulkResult<string> = action === 'assign' ? await assignLicenses(cli.store, deps, input) : await revokeLicenses(cli.store, deps, input);
    const product = cli.rules.product(r.productId)!;
    return { result: r, seatsMessage: noSeatsMessage(product, r.seats.assigned) };
  }).finally(() => bar.end());

  if (values.json) {
    process.stdout.write(toJson(result));
  } else {
    const p = palette(colourEnabled());
    const rows = result.results.map((r) => {
      const text = outcomeText(r.outcome as never);
      return [GOOD.has(r.outcome) ? p.green(text) : p.red(text), r.email ?? r.item, r.reason];
    });
    process.stdout.write(table(['Result', 'Person', 'Why'], rows, p));
    process.stdout.write(`${result.summary}\n`);
  }
  if (result.counts['no-seats']) throw new MailgrantError('no_seats', `${seatsMessage}.`);
  if (!result.ok) {
    const failed = result.results.filter((r) => !GOOD.has(r.outcome)).length;
    throw new MailgrantError('invalid_input', `${failed} of ${result.results.length} people ${failed === 1 ? 'was' : 'were'} not ${action === 'assign' ? 'assigned' : 'revoked'}; see the lines above.`);
  }
  return 0;
}
