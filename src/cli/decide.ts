import type { Env } from '../config/env.js';
import { decideAsAdmin } from '../requests/admin-decide.js';
import { listFlag } from '../requests/name-lookup.js';
import { parseRequestNumber } from '../requests/request-queries.js';
import { MailgrantError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { withCli } from './connect.js';
import { parseFlags } from './flags.js';
import { colourEnabled, palette, toJson } from './output.js';

const USAGE =
  'mailgrant decide N --as ADMIN [--approve a,b | --approve-all] [--deny c | --deny-all] [--product ID] [--disable-plans x,y] [--group NAME] [--message TEXT] [--json]';

/** `mailgrant decide N`: approve or deny people on a request as an admin. */
export async function decideCommand(args: string[], env: Env, logger: Logger): Promise<number> {
  const { values, positionals } = parseFlags(
    args,
    {
      as: { type: 'string' },
      approve: { type: 'string' },
      'approve-all': { type: 'boolean' },
      deny: { type: 'string' },
      'deny-all': { type: 'boolean' },
      product: { type: 'string' },
      'disable-plans': { type: 'string' },
      group: { type: 'string' },
      message: { type: 'string' },
      json: { type: 'boolean' },
    },
    USAGE,
  );
  const requestId = parseRequestNumber(positionals[0], USAGE);
  const { result, rules } = await withCli(env, logger, async (cli) => {
    const r = await decideAsAdmin(cli.store, await cli.domain(), {
      requestId,
      actor: values.as,
      approve: listFlag(values.approve),
      approveAll: values['approve-all'],
      deny: listFlag(values.deny),
      denyAll: values['deny-all'],
      productId: values.product,
      disablePlans: listFlag(values['disable-plans']),
      group: values.group,
      message: values.message,
    });
    await cli.sendQueuedMail();
    return { result: r, rules: cli.rules };
  });

  const { request, ...rest } = result;
  if (values.json) {
    process.stdout.write(toJson({ requestId: request.id, status: request.status, ...rest }));
  } else {
    const p = palette(colourEnabled());
    const name = (e: string) => `${request.people.find((x) => x.email === e)?.name ?? rules.displayName(e)} <${e}>`;
    const lines: string[] = [];
    if (result.productChanged) lines.push(`product       ${rules.product(result.productId)?.name ?? result.productId}`);
    for (const r of result.recorded) lines.push(`${r.verdict === 'approve' ? p.green('approved') : p.red('denied  ')}      ${name(r.email)}`);
    for (const r of result.alreadyDecided) lines.push(`${p.dim('already')}       ${name(r.email)}: ${r.verdict === 'approve' ? 'approved' : 'denied'} by ${r.by}`);
    for (const e of result.waitingForSeats) lines.push(`${p.yellow('waiting')}       ${name(e)}: no seat left`);
    for (const b of result.blocked) lines.push(`${p.yellow('not assigned')}  ${name(b.email)}: ${b.reason}`);
    lines.push(
      result.completed
        ? `Request #${request.id} is completed; the outcome mails are on their way.`
        : `Request #${request.id}: ${request.people.filter((x) => !x.verdict).length} of ${request.people.length} still undecided.`,
    );
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  if (result.waitingForSeats.length > 0 || result.blocked.length > 0) {
    const product = rules.product(result.productId);
    const parts: string[] = [];
    if (result.waitingForSeats.length > 0) {
      parts.push(`${result.waitingForSeats.length} approved ${result.waitingForSeats.length === 1 ? 'person waits' : 'people wait'} for a seat of ${product?.name ?? result.productId}${product?.purchaseUrl ? ` (buy more at ${product.purchaseUrl})` : product?.vendor ? ` (ask ${product.vendor} for more)` : ''}`);
    }
    if (result.blocked.length > 0) parts.push(`${result.blocked.length} cannot get it under the product's rules`);
    throw new MailgrantError(result.waitingForSeats.length > 0 ? 'no_seats' : 'conflict', `Not everyone approved got a licence: ${parts.join('; ')}. They stay undecided.`);
  }
  return 0;
}
