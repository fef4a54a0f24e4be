import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Env } from './config/env.js';
import { loadRules, type Rules } from './config/rules.js';
import { openDatabase, type DbHandle } from './db/client.js';
import { createLocalLiveness, createPgLiveness, type Liveness } from './db/liveness.js';
import { createStore, type Store } from './db/store.js';
import { createHealthCheck } from './http/health.js';
import { createHttpServer, type HttpServer } from './http/server.js';
import { runRetention } from './jobs/retention.js';
import { createScheduler, type Scheduler } from './jobs/scheduler.js';
import { createImapIntake, type ImapIntake } from './mail/inbound/imap-intake.js';
import { createInThreadReader, createParsePool } from './mail/inbound/parse-pool.js';
import { createInboundPipeline, type InboundPipeline } from './mail/inbound/pipeline.js';
import type { SmtpIntake } from './mail/inbound/smtp-intake.js';
import { createMailComposer } from './mail/outbound/compose.js';
import { createDispatcher, type Dispatcher } from './mail/outbound/dispatcher.js';
import { trialRenderOverrides } from './mail/outbound/preview.js';
import { BUNDLED_TEMPLATES_DIR, createRendererOffThread, type Renderer } from './mail/outbound/render.js';
import { createFileTransport, createSmtpTransport, type Transport } from './mail/outbound/transport.js';
import { countInbound } from './metrics/count-inbound.js';
import { instrumentStore } from './metrics/instrument-store.js';
import { createMetrics, type Metrics } from './metrics/metrics.js';
import type { DnsResolver } from './mail/inbound/authenticate.js';
import { alertAdmins } from './requests/alerts.js';
import type { DomainDeps } from './requests/deps.js';
import { crashHook, type FaultHook } from './shared/faults.js';
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
  /** This instance's identity and exclusive roles among instances sharing the database. */
  readonly liveness: Liveness;
  /** This app's metrics (its own registry), served on /metrics. */
  readonly metrics: Metrics;
  /** The /healthz and /metrics listener, or null with HTTP_PORT=off. */
  readonly http: HttpServer | null;
  rules(): Rules;
  /** Puts new rules in force for the next message (reload on SIGHUP or file change). */
  setRules(rules: Rules): void;
  /** Starts intake, dispatch and jobs. Safe to call twice. */
  start(): Promise<void>;
  /** Stops intake, finishes the messages in hand, stops jobs, drains the outbox briefly, closes. Safe to call twice. */
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
  /** DNS for DKIM/SPF/DMARC checks of replies; tests replace it. */
  resolver?: DnsResolver;
  /** Crash points for the fault tests; by default read from MAILGRANT_CRASH_AT. */
  faults?: FaultHook;
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

  const renderer = o.renderer ?? (await createRendererOffThread({ templatesDir: BUNDLED_TEMPLATES_DIR, overridesDir: env.templatesDir }));
  if (!o.renderer && env.templatesDir) trialRenderOverrides(renderer, env.templatesDir);
  for (const file of renderer.unusedOverrides) {
    logger.warn({ file }, `the template override ${file} replaces no bundled template (misspelt name?) and is ignored`);
  }
  const db = o.db ?? (await openDatabase({ databaseUrl: env.databaseUrl, dataDir: env.dataDir }));
  const baseStore = createStore(db.db);
  const metrics = createMetrics({ store: baseStore, db: db.db });
  const store = instrumentStore(baseStore, metrics);
  const domain: DomainDeps = { rules: getRules, composer: createMailComposer({ renderer, rules: getRules, clock }), clock };
  /** Quarantined SMTP messages exist nowhere else: keep their bytes for an admin to look at. */
  const keepQuarantined = async (rawHash: string, raw: Buffer): Promise<string> => {
    const dir = join(env.dataDir, 'quarantine');
    await mkdir(dir, { recursive: true });
    const file = join(dir, `${rawHash}.eml`);
    await writeFile(file, raw);
    return file;
  };
  const liveness = env.databaseUrl ? createPgLiveness(env.databaseUrl, logger.child({ component: 'liveness' })) : createLocalLiveness();
  const faults = o.faults ?? crashHook(process.env.MAILGRANT_CRASH_AT, (point) => logger.warn({ point }, 'MAILGRANT_CRASH_AT: killing this process now'));
  const transport = o.transport ?? (env.smtp ? createSmtpTransport(env.smtp) : createFileTransport(join(env.dataDir, 'outbox')));
  const tellAdmins = async (title: string, row: { toAddress: string; kind: string; requestId: number | null; messageId: string }, error: string, dedupeKey: string) => {
    await store.transaction((repos) =>
      alertAdmins(repos, domain, {
        title,
        lines: [`To: ${row.toAddress}`, `Kind: ${row.kind}`, `Request: ${row.requestId ?? 'none'}`, `Message-ID: ${row.messageId}`, `Error: ${error}`],
        dedupeKey,
      }),
    );
    dispatcher.kick();
  };
  const dispatcher = createDispatcher({
    store, transport, logger: logger.child({ component: 'dispatcher' }), clock,
    concurrency: env.smtp?.maxConnections ?? 5,
    retryMaxMs: env.smtpRetryMaxMs,
    metrics,
    liveness,
    faults,
    async onPermanentFailure(row, error) {
      // An alert about a failed alert would only fail the same way.
      if (row.kind === 'admin-alert') return;
      await tellAdmins('A mail could not be delivered', row, error, `outbox-failed:${row.id}`);
    },
    async onDelayed(row, error) {
      await tellAdmins('A mail is delayed: the mail server keeps refusing it for now (Mailgrant keeps trying)', row, error, `outbox-delayed:${row.id}`);
    },
  });
  const reader = env.parseWorkers > 0 ? createParsePool({ workers: env.parseWorkers, logger: logger.child({ component: 'parse' }) }) : createInThreadReader();
  const pipeline = countInbound(createInboundPipeline({ store, domain, logger: logger.child({ component: 'pipeline' }), onOutbox: () => dispatcher.kick(), resolver: o.resolver, faults, keepQuarantined, reader }), metrics);
  const imap = env.imap ? createImapIntake({ settings: env.imap, pipeline, logger, maxMessageBytes: env.maxMessageBytes, concurrency: env.imap.concurrency, metrics, liveness, faults }) : null;
  const smtpIntake = env.smtpIntake
    ? // Loaded only when the intake is on (smtp-server and its TLS stack are ~15 MB resident).
      (await import('./mail/inbound/smtp-intake.js')).createSmtpIntake({ ...env.smtpIntake, pipeline, logger, maxMessageBytes: env.maxMessageBytes })
    : null;
  const scheduler = createScheduler({
    jobs: [{ name: 'retention', schedule: env.retentionSchedule, run: () => runRetention({ db: db.db, rules: getRules, clock, logger }) }],
    logger,
    runs: store.repos.jobRuns,
    instanceId: liveness.instanceId,
    isAlive: (id) => liveness.isAlive(id),
    clock,
  });

  const http = env.http
    ? createHttpServer({
        ...env.http,
        logger,
        metrics,
        health: createHealthCheck({ db, imap, transport, fileTransport: !o.transport && !env.smtp }),
      })
    : null;

  let started = false;
  let stopped = false;
  return {
    env, db, store, domain, pipeline, dispatcher, imap, smtpIntake, scheduler, liveness, metrics, http,
    rules: getRules,
    setRules(next) {
      current = next;
    },
    async start() {
      if (started) return;
      started = true;
      logger.info({ database: db.driver, transport: transport.name, imap: env.imap ? `${env.imap.host}:${env.imap.port}/${env.imap.mailbox}` : 'off', smtpIntake: env.smtpIntake ? `${env.smtpIntake.host}:${env.smtpIntake.port}` : 'off', http: env.http ? `${env.http.host}:${env.http.port}` : 'off', organization: current.organization.name }, 'starting Mailgrant');
      // First, so /healthz answers (503 until IMAP is connected) while the rest comes up.
      await http?.start();
      await liveness.start();
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
      await reader.close();
      await scheduler.stop();
      await dispatcher.stop();
      // Bounded, and what is still in hand then goes back to the queue (a race here left the
      // drain claiming and sending while the database was being closed).
      await dispatcher.drain({ withinMs: 3_000 }).catch(() => {});
      await Promise.all([http?.stop(), metrics.settled()]);
      transport.close();
      await liveness.stop();
      await db.close();
    },
  };
}
