#!/usr/bin/env node
import { parseEnv } from '../config/env.js';
import { isMailgrantError } from '../shared/errors.js';
import { createLogger } from '../shared/logger.js';
import { explainCommand } from './explain.js';
import { loadRules } from '../config/rules.js';
import { migrateCommand } from './migrate.js';
import { replyCommand, sendCommand } from './send.js';
import { startCommand } from './start.js';

const USAGE = `Usage: mailgrant <command>

Commands:
  start                               run the daemon (applies pending migrations first)
  migrate                             apply pending database migrations and exit
  explain FILE.eml --users a@x,b@x    show how a reply would be understood, as JSON
  send --from A --subject S [--text T]   send a request mail to the SMTP intake (for trying it out)
  reply FILE.eml --text T [--from A]     reply to a mail Mailgrant wrote, through the SMTP intake

Configuration comes from environment variables and the rules file; see README.md.`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return command ? 0 : 2;
  }
  const env = parseEnv(process.env);
  // Commands that print a result keep stdout for it; their log lines go to stderr.
  const logger = createLogger({ level: env.logLevel, destination: command === 'start' ? process.stdout : process.stderr, pretty: command === 'start' ? undefined : Boolean(process.stderr.isTTY) });
  switch (command) {
    case 'start':
      return startCommand(env, logger);
    case 'migrate':
      return migrateCommand(env, logger);
    case 'explain':
      return explainCommand(rest, env);
    case 'send':
      return sendCommand(rest, env, loadRules(env.rulesFile).rules.organization.mailbox);
    case 'reply':
      return replyCommand(rest, env);
    default:
      process.stderr.write(`mailgrant: unknown command "${command}"\n\n${USAGE}\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    // What an admin did wrong gets a clear sentence; anything else is a bug and gets the stack.
    if (isMailgrantError(err)) process.stderr.write(`mailgrant: ${err.message}\n`);
    else process.stderr.write(`mailgrant: unexpected error: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
