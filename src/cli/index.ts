#!/usr/bin/env node
import { parseEnv } from '../config/env.js';
import { isMailgrantError } from '../shared/errors.js';
import { createLogger } from '../shared/logger.js';
import { loadRules } from '../config/rules.js';
// Each command's module is loaded when that command runs: the daemon's and the templates'
// dependencies (MJML, IMAP, browsers) would otherwise slow every admin console call down.

const USAGE = `Usage: mailgrant <command>

Commands:
  start                               run the daemon (applies pending migrations first)
  migrate                             apply pending database migrations and exit
  explain FILE.eml --users a@x,b@x    show how a reply would be understood, as JSON
  send --from A --subject S [--text T]   send a request mail to the SMTP intake (for trying it out)
  reply FILE.eml --text T [--from A]     reply to a mail Mailgrant wrote, through the SMTP intake

Admin console (work while the daemon runs; --json for scripts):
  requests [--status pending|completed|all] [--product ID]   list requests, pending first
  request N                              one request: people, verdicts, shares, mails
  decide N --as ADMIN [--approve a,b | --approve-all] [--deny c | --deny-all]
         [--product ID] [--disable-plans x,y] [--group NAME] [--message TEXT]
  share N --to a@x,b@x --as ADMIN [--subject S] [--message M]
  licenses                               seats per product: total, assigned, available, vendor
  licenses assign|revoke --product ID (--users a,b | --group NAME) [--disable-plans x] --as ADMIN
  licenses set-seats --product ID --seats N --as ADMIN
  audit [--request N] [--since DATE]     who did what, when, through which channel
  templates list                         the templates in force (bundled or TEMPLATES_DIR override)
  templates preview NAME [--locale L|all] [--out DIR] [--png]
                                      render a template with sample data to DIR (default ./preview)

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
      return (await import('./start.js')).startCommand(env, logger);
    case 'migrate':
      return (await import('./migrate.js')).migrateCommand(env, logger);
    case 'explain':
      return (await import('./explain.js')).explainCommand(rest, env);
    case 'send':
      return (await import('./send.js')).sendCommand(rest, env, loadRules(env.rulesFile).rules.organization.mailbox);
    case 'reply':
      return (await import('./send.js')).replyCommand(rest, env);
    case 'requests':
      return (await import('./requests.js')).requestsCommand(rest, env, logger);
    case 'request':
      return (await import('./request.js')).requestCommand(rest, env, logger);
    case 'decide':
      return (await import('./decide.js')).decideCommand(rest, env, logger);
    case 'share':
      return (await import('./share.js')).shareCommand(rest, env, logger);
    case 'licenses':
      return (await import('./licenses.js')).licensesCommand(rest, env, logger);
    case 'audit':
      return (await import('./audit.js')).auditCommand(rest, env, logger);
    case 'templates':
      return (await import('./templates-preview.js')).templatesCommand(rest, env);
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
