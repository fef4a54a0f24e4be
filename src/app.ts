import { join } from 'node:path';
import type { Env } from './config/env.js';
import { loadRules, type Rules } from './config/rules.js';
import { openDatabase, type DbHandle } from './db/client.js';
import { createStore, type Store } from './db/store.js';
import { runRetention } from './jobs/retention.js';
import { createScheduler, type Scheduler } from './jobs/scheduler.js';
import { createImapIntake, type ImapIntake } from './mail/inbound/imap-intake.js';
import { createInboundPipeline, type InboundPipeline } from './mail/inbound/pipeline.js';
import { createSmtpIntake, type SmtpIntake } from './mail/inbound/smtp-intake.js';
import { createMailComposer } from './mail/outbound/compose.js';
import { createDispatcher, type Dispatcher } from './mail/outbound/dispatcher.js';
import { BUNDLED_TEMPLATES_DIR, createRenderer, type Renderer } from './mail/outbound/render.js';
import { createFileTransport, createSmtpTransport, type Transport } from './mail/outbound/transport.js';
import type { DomainDeps } from './requests/deps.js';
import type { Logger } from './shared/logger.js';

export interface App {
  readonly env: Env;
  readonly db: DbHandle;
  readonly store: Store;
  readonly domain: DomainDeps;
  readonly pipeline: InboundPipeline;
  readonly dispatcher: Dispatcher;
  readonly imap: ImapIntake | null;
  readonly smtpIntake: SmtpIntake | null;
  readonly scheduler: Scheduler;
  rules(): Rules;
  /** Puts new rules in force for the next message (reload on SIGHUP or file change). */
  setRules(rules: Rules): void;
  /** Starts intake, dispatch and jobs. Safe to call twice. */
  start(): Promise<void>;
  /** Stops intake, finishes the message in hand, stops jobs, drains the outbox briefly, closes. Safe to call twice. */
  stop(): Promise<void>;
}

export interface AppOptions {
  env: Env;
  logger: Logger;
  clock?: () => Date;
  /** Rules already loaded (tests); otherwise read from env.rulesFile. */
  rules?: Rules;
  transport?: Transport;
  db?: DbHandle;
  /** Compiled templates to reuse (tests build many apps; compiling takes about a second). */
  renderer?: Renderer;
}

/** The composition root shared by the daemon, the CLI and the tests. */
export async function createApp(o: AppOptions): Promise<App> {
  const { env, logger } = o;
  const clock = o.clock ?? (() => new Date());
  let rules = o.rules;
  if (!rules) {
    const loaded = loadRules(env.rulesFile);
    if (loaded.usedExample) logger.warn({ rulesFile: env.rulesFile }, `no rules file at ${env.rulesFile}: using the bundled example organisation (Contoso)`);
    rules = loaded.rules;
  }
  let current: Rules = rules;
  const getRules = () => current;

  const renderer = o.renderer ?? createRenderer({ templatesDir: BUNDLED_TEMPLATES_DIR, overridesDir: env.templatesDir });
  for (const file of renderer.unusedOverrides) {
    logger.warn({ file }, `the template override ${file} replaces no bundled template (misspelt name?) and is ignored`);
  }
  const db = o.db ?? (await openDatabase({ databaseUrl: env.databaseUrl, dataDir: env.dataDir }));
  const store = createStore(db.db);
  const domain: DomainDeps = { rules: getRules, composer: createMailComposer({ renderer, rules: getRules }), clock };
  const transport = o.transport ?? (env.smtp ? createSmtpTransport(env.smtp) : createFileTransport(join(env.dataDir, 'outbox')));
  const dispatcher = createDispatcher({
    store, transport, logger: logger.child({ component: 'dispatcher' }), clock,
    concurrency: env.smtp?.maxConnections ?? 5,
  });
  const pipeline = createInboundPipeline({ store, domain, logger: logger.child({ component: 'pipeline' }), onOutbox: () => dispatcher.kick() });
  const imap = env.imap ? createImapIntake({ settings: env.imap, pipeline, logger, maxMessageBytes: env.maxMessageBytes }) : null;
  const smtpIntake = env.smtpIntake
    ? createSmtpIntake({ ...env.smtpIntake, pipeline, logger, maxMessageBytes: env.maxMessageBytes })
    : null;
  const scheduler = createScheduler(
    [{ name: 'retention', schedule: env.retentionSchedule, run: () => runRetention({ db: db.db, rules: getRules, clock, logger }) }],
    logger,
  );

  let started = false;
  let stopped = false;
  return {
    env, db, store, domain, pipeline, dispatcher, imap, smtpIntake, scheduler,
    rules: getRules,
    setRules(next) {
      current = next;
    },
    async start() {
      if (started) return;
      started = true;
      logger.info({ database: db.driver, transport: transport.name, imap: env.imap ? `${env.imap.host}:${env.imap.port}/${env.imap.mailbox}` : 'off', smtpIntake: env.smtpIntake ? `${env.smtpIntake.host}:${env.smtpIntake.port}` : 'off', organization: current.organization.name }, 'starting Mailgrant');
      dispatcher.start();
      await smtpIntake?.start();
      imap?.start();
      scheduler.start();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      // Intake first, so no new work arrives; then jobs; then the outbox gets a last chance.
      await Promise.all([smtpIntake?.stop(), imap?.stop()]);
      await scheduler.stop();
      await dispatcher.stop();
      await Promise.race([dispatcher.drain().catch(() => {}), new Promise((r) => setTimeout(r, 3_000))]);
      transport.close();
      await db.close();
    },
  };
}
