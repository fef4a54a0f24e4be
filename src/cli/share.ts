import type { Env } from '../config/env.js';
import { shareAsAdmin } from '../requests/admin-share.js';
import { listFlag } from '../requests/name-lookup.js';
import { parseRequestNumber } from '../requests/request-queries.js';
import type { Logger } from '../shared/logger.js';
import { withCli } from './connect.js';
import { parseFlags } from './flags.js';
import { toJson } from './output.js';

const USAGE = 'mailgrant share N --to a@x,b@x --as ADMIN [--subject S] [--message M] [--json]';

/** `mailgrant share N`: shares one request by email with people of the directory. */
export async function shareCommand(args: string[], env: Env, logger: Logger): Promise<number> {
  const { values, positionals } = parseFlags(
    args,
    { to: { type: 'string' }, as: { type: 'string' }, subject: { type: 'string' }, message: { type: 'string' }, json: { type: 'boolean' } },
    USAGE,
  );
  const requestId = parseRequestNumber(positionals[0], USAGE);
  const result = await withCli(env, logger, async (cli) => {
    const r = await shareAsAdmin(cli.store, await cli.domain(), { requestId, to: listFlag(values.to), actor: values.as, subject: values.subject, message: values.message });
    await cli.sendQueuedMail();
    return r;
  });
  process.stdout.write(values.json ? toJson(result) : `Shared request #${result.requestId} with ${result.recipients.join(', ')}.\n`);
  return 0;
}
