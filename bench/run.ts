/**
 * `npm run bench [-- --quick] [--out FILE] [--runner dist|tsx] [--profile] [--perf] [--check-targets]`
 *
 * Starts its own PostgreSQL, Dovecot and SMTP sink on loopback (the test helpers), runs Mailgrant
 * as a child process (`mailgrant start`), measures, prints a table with PASS/FAIL per target
 * and writes bench/results.json. See BENCHMARKS.md for what each figure means.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { openDatabase, type DbHandle } from '../src/db/client.js';
import { requests } from '../src/db/schema/index.js';
import { startDovecot, type DovecotServer } from '../test/helpers/dovecot.js';
import { startPostgres, type PgServer } from '../test/helpers/postgres.js';
import { freePort } from '../test/helpers/ports.js';
import { distIsFresh, REPO_ROOT, startMailgrant, type MailgrantProcess, type Runner } from './mailgrant.js';
import { makeOrg, replyMail } from './org.js';
import { runBacklog } from './phases/backlog.js';
import { measureIdleNotify } from './phases/idle.js';
import { breakdown, imapLatency, mailsPerReply, sampleMails, smtpLatency } from './phases/latency.js';
import { rawBaseline } from './phases/raw.js';
import { measureExtraction } from './phases/extract.js';
import { measureRender } from './phases/render.js';
import { appendReplies, checkReply, seedRows, seedThroughSmtp } from './phases/seed.js';
import { cpuSeconds, cpuSnapshot, serverGroups } from './proc.js';
import { ensurePerf, formatPerf, PERF_NODE_FLAGS, recordPerf, summarisePerf, type PerfSummary } from './perf.js';
import { busiestProfile, formatProfile } from './profile.js';
import { machine, pruneRuns } from './machine.js';
import { evaluateTargets, summary, table, writeResults, type Figures } from './report.js';
import { startBenchSink, type BenchSink } from './sink.js';
import { log, median, now, percentile, round } from './util.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    out: { type: 'string' },
    runner: { type: 'string' },
    'no-build': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    perf: { type: 'boolean', default: false },
    'check-targets': { type: 'boolean', default: false },
    samples: { type: 'string' },
    backlog: { type: 'string' },
    'pg-stats': { type: 'boolean', default: false },
  },
});

const quick = args.quick!;
const config = {
  samples: Number(args.samples ?? (quick ? 10 : 200)),
  backlog: Number(args.backlog ?? (quick ? 300 : 10_000)),
  idleSamples: quick ? 5 : 20,
  renderMs: quick ? 300 : 2000,
  extractRepeats: quick ? 3 : 15,
  progressEvery: quick ? 100 : 1000,
  stallMs: 60_000,
  /** The whole run: a stuck run is stopped with the step it was in. */
  budgetMs: quick ? 5 * 60_000 : 60 * 60_000,
  smtpConnections: 5, // Mailgrant's default SMTP_MAX_CONNECTIONS
  appendConnections: 4,
};
// Full runs measure the compiled daemon, as `npm start` runs it. Quick runs must not spend 15 s
// compiling: they use dist/ when it is up to date (as after `npm ci`) and tsx otherwise.
const runnerArg = args.runner ?? (quick ? 'auto' : 'dist');
if (!['dist', 'tsx', 'auto'].includes(runnerArg)) throw new Error(`--runner must be dist, tsx or auto, got ${runnerArg}`);
const runner: Runner = runnerArg === 'auto' ? (distIsFresh() ? 'dist' : 'tsx') : (runnerArg as Runner);
const outFile = path.resolve(args.out ?? path.join(REPO_ROOT, 'bench/results.json'));
const USER = 'licenses';
const PASSWORD = 'bench-pw';

// Everything to stop at the end, newest first.
const cleanups: (() => Promise<unknown>)[] = [];
let step = 'starting';
const stepTimes: Record<string, number> = {};
/** CPU seconds per process (ours, and everything else on the machine) in each step. */
const stepCpu: Record<string, Record<string, number>> = {};
async function phase<T>(name: string, fn: () => Promise<T>): Promise<T> {
  step = name;
  log(`${name}…`);
  const t0 = now();
  const cpu0 = cpuSnapshot(serverGroups());
  const out = await fn();
  stepTimes[name] = round((now() - t0) / 1000, 2);
  // Groups that appeared during the step (Mailgrant, the raw client) count from zero.
  stepCpu[name] = cpuSeconds(cpu0, cpuSnapshot(serverGroups()));
  return out;
}

async function cleanup(): Promise<void> {
  while (cleanups.length) {
    const fn = cleanups.pop()!;
    await Promise.race([fn().catch((err: Error) => log(`cleanup: ${err.message}`)), new Promise((r) => setTimeout(r, 25_000))]);
  }
}

async function main(): Promise<number> {
  const started = new Date();
  const machineAtStart = machine();
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  log(`${command}: ${quick ? 'quick' : 'full'} run, Mailgrant from ${runner === 'dist' ? 'dist/ (compiled)' : 'src/ via tsx'}; results to ${path.relative(process.cwd(), outFile)}`);
  let buildOk: boolean | null = null;
  if (runner === 'dist' && runnerArg === 'dist' && !args['no-build']) {
    await phase('build (npm run build)', async () => {
      try {
        execFileSync('npm', ['run', '--silent', 'build'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
        buildOk = true;
      } catch (err) {
        // tsc still emits JavaScript when it finds type errors (someone's work in progress in a
        // shared tree): measure that, and say so, rather than refuse to run.
        const out = `${(err as { stdout?: string }).stdout ?? ''}${(err as { stderr?: string }).stderr ?? ''}`;
        if (!distIsFresh()) throw new Error(`npm run build failed and dist/ is not up to date:\n${out.split('\n').slice(0, 20).join('\n')}`);
        buildOk = false;
        log(`  WARNING: npm run build reported errors; measuring the JavaScript it emitted anyway:\n${out.split('\n').filter((l) => /error TS/.test(l)).slice(0, 5).join('\n')}`);
      }
    });
  }
  // Before the long steps: a machine where perf cannot sample says so at once.
  const perf = args.perf ? await phase('perf: can it sample here', ensurePerf) : null;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'mailgrant-bench-'));
  // Mailgrant's logs (and CPU profile) are kept after the run, in .tmp/ (ignored by git), one
  // folder per run: runs can overlap (the smoke test in someone's `npm test`), and a run that
  // read another run's log would take its "IMAP connected" for its own.
  const runDir = path.join(REPO_ROOT, '.tmp/bench-runs', `${started.toISOString().replace(/[:.]/g, '-')}-${process.pid}`);
  pruneRuns(path.dirname(runDir), 10);
  mkdirSync(runDir, { recursive: true });
  cleanups.push(async () => rmSync(tmp, { recursive: true, force: true }));

  const render = await phase('render: compiled templates vs MJML per mail', async () => measureRender({ ms: config.renderMs }));
  log(`  ${render.renderPerS.toFixed(0)} renders/s compiled, ${render.mjmlPerMailPerS.toFixed(1)}/s with MJML per mail: ${render.speedup.toFixed(0)}×`);

  const extraction = await phase('extract_adversarial_ms: reply extraction on hostile 1 MB bodies', async () => measureExtraction({ repeats: config.extractRepeats }));
  log(`  slowest: ${extraction.worstCase}, median ${extraction.worstMedianCpuMs.toFixed(1)} ms CPU`);

  const [pg, dovecot, sink] = await phase('servers: PostgreSQL, Dovecot, SMTP sink', async () => {
    const started3 = await Promise.allSettled([startPostgres({ settings: args['pg-stats'] ? ['shared_preload_libraries=pg_stat_statements', 'pg_stat_statements.track=all'] : [] }), startDovecot({ users: [{ user: USER, password: PASSWORD }, { user: 'probe', password: PASSWORD }] }), startBenchSink()]);
    for (const s of started3) if (s.status === 'fulfilled') cleanups.push(() => s.value.stop());
    const failed = started3.find((s) => s.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    return started3.map((s) => (s as PromiseFulfilledResult<unknown>).value) as [PgServer, DovecotServer, BenchSink];
  });
  const databaseUrl = await pg.createDatabase();
  const db: DbHandle = await openDatabase({ databaseUrl, dataDir: tmp, maxConnections: 4 });
  cleanups.push(() => db.close());
  await db.migrate();

  const idle = await phase('dovecot_idle_notify_ms: APPEND → IDLE client told', () => measureIdleNotify(dovecot, 'probe', config.idleSamples));
  log(`  median ${idle.median.toFixed(1)} ms over ${idle.samples.length}`);

  const latencyPairs = 2 * (config.samples + 1);
  const org = makeOrg(latencyPairs + config.backlog);
  const rulesFile = path.join(tmp, 'rules.yaml');
  writeFileSync(rulesFile, org.yaml);
  // The health and metrics listener stays on, as in production, on a port of its own: runs may
  // overlap (the smoke test in someone's npm test) and its default port would clash.
  const baseEnv = {
    DATA_DIR: path.join(tmp, 'data'), RULES_FILE: rulesFile, DATABASE_URL: databaseUrl, IMAP_URL: dovecot.imapUrl(USER, 'INBOX'), SMTP_URL: sink.url,
    LOG_LEVEL: 'info', HTTP_PORT: `127.0.0.1:${await freePort()}`,
  };

  // --- Latency: one Mailgrant with both intakes --------------------------------------------
  const intakePort = await freePort();
  const mg1: MailgrantProcess = await phase('Mailgrant (IMAP + SMTP intake) starting', async () => {
    const mg = await startMailgrant({ runner, env: { ...baseEnv, SMTP_INTAKE: `127.0.0.1:${intakePort}` }, logFile: path.join(runDir, 'mailgrant-latency.log') });
    cleanups.push(() => mg.stop());
    await mg.waitForLog(/SMTP intake listening/, 60_000, 'the SMTP intake to listen');
    await mg.waitForLog(/IMAP connected; waiting for mail/, 60_000, 'the IMAP intake to connect');
    return mg;
  });
  sink.keepRawOf(['shared-request']);
  const seeded = await phase(`seed: ${latencyPairs} requests through the SMTP intake`, () => seedThroughSmtp({ org, sink, intakePort, from: 0, count: latencyPairs }));
  await checkReply(await replyMail(seeded[0]!));
  const imapShares = seeded.slice(0, config.samples + 1);
  const smtpShares = seeded.slice(config.samples + 1);
  // The first sample of each is a warm-up (JIT, connection pools) and is not counted.
  const imapSamples = (await phase(`imap_latency_ms: ${config.samples} replies APPENDed one after another`, () => imapLatency({ dovecot, user: USER, sink, shares: imapShares }))).slice(1);
  const smtpSamples = (await phase(`smtp_intake_latency_ms: ${config.samples} replies to the SMTP intake`, () => smtpLatency({ intakePort, sink, shares: smtpShares }))).slice(1);
  const perReply = mailsPerReply(sink, imapSamples);
  log(`  Mailgrant sends ${perReply.count} mails per "approve" reply (${perReply.kinds.join(', ')})`);
  const imapBreakdown = await breakdown(db.db, imapSamples);
  const smtpBreakdown = await breakdown(db.db, smtpSamples);
  const rawMails = (await sampleMails(db.db, imapSamples[0]!.requestId)).filter((m) => m.kind !== 'shared-request' && m.kind !== 'acknowledgement');
  if (rawMails.length !== perReply.count) throw new Error(`expected ${perReply.count} outbox mails for request ${imapSamples[0]!.requestId} after its reply, found ${rawMails.length}`);
  await phase('Mailgrant (latency) stopping', () => mg1.stop());
  const errors1 = mg1.errorLines();
  if (errors1.length > 0) log(`  WARNING: Mailgrant logged ${errors1.length} error line(s) in the latency phases; first: ${errors1[0]!.slice(0, 300)}`);

  // --- Backlog: N replies in the mailbox before Mailgrant starts -------------------------------
  const inboxCount = async () => {
    const c = await dovecot.client(USER);
    try {
      const s = await c.status('INBOX', { messages: true });
      return s ? (s.messages ?? 0) : NaN;
    } finally {
      await c.logout().catch(() => c.close());
    }
  };
  const left = await inboxCount();
  if (left !== 0) throw new Error(`INBOX still holds ${left} message(s) after the latency phases; Mailgrant should have moved them to Processed`);
  const backlogShares = await phase(`seed: ${config.backlog} pending requests written to the database`, () =>
    seedRows({ db: db.db, org, from: latencyPairs, count: config.backlog, template: imapShares[1]! }));
  await checkReply(await replyMail(backlogShares[0]!));
  const bytes = await phase(`seed: ${config.backlog} replies APPENDed to INBOX`, () =>
    appendReplies({ dovecot, user: USER, shares: backlogShares, connections: config.appendConnections, progressEvery: config.progressEvery }));
  const inInbox = await inboxCount();
  if (inInbox !== config.backlog) throw new Error(`INBOX holds ${inInbox} messages, expected ${config.backlog}`);
  log(`  ${config.backlog} replies in INBOX, ${(bytes / config.backlog / 1024).toFixed(1)} KiB each on average`);

  const raw = await phase(`raw_replies_per_s: FETCH ${config.backlog} + ${config.backlog * perReply.count} mails to the sink`, () =>
    rawBaseline({ dovecot, user: USER, password: PASSWORD, sink, expected: config.backlog, mails: rawMails, smtpConnections: config.smtpConnections, progressEvery: config.progressEvery, stallMs: config.stallMs, tmpDir: tmp }));
  log(`  ${raw.perS.toFixed(0)} messages/s (${raw.seconds.toFixed(1)} s)`);

  if (args['pg-stats']) {
    await db.db.execute(sql`create extension if not exists pg_stat_statements`);
    await db.db.execute(sql`select pg_stat_statements_reset()`);
  }
  const profileDir = args.profile ? path.join(runDir, 'profile') : null;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  // --perf: Mailgrant runs in its own directory there, where node writes the jitdump perf needs.
  const perfDir = perf ? path.join(runDir, 'perf') : null;
  if (perfDir) mkdirSync(perfDir, { recursive: true });
  const backlog = await phase(`backlog_replies_per_s: Mailgrant starts with ${config.backlog} replies waiting`, () =>
    runBacklog({
      db: db.db, sink, requestIds: new Set(backlogShares.map((s) => s.requestId)), mailsPerReply: perReply.count,
      progressEvery: config.progressEvery, stallMs: config.stallMs,
      profiler: perf && perfDir ? (pid) => recordPerf(perf, pid, path.join(perfDir, 'perf.data')) : undefined,
      start: async () => {
        const mg = await startMailgrant({
          runner, env: { ...baseEnv, SMTP_INTAKE: 'off' }, logFile: path.join(runDir, 'mailgrant-backlog.log'), cpuProfileDir: profileDir,
          ...(perfDir ? { nodeFlags: PERF_NODE_FLAGS, cwd: perfDir } : {}),
        });
        cleanups.push(() => mg.stop());
        return mg;
      },
    }));
  log(`  ${backlog.perS.toFixed(0)} replies/s (${backlog.seconds.toFixed(1)} s after a ${backlog.startupMs.toFixed(0)} ms start), RSS peak ${backlog.rssPeakMb.toFixed(0)} MB`);
  let perfSummary: PerfSummary | null = null;
  if (perf && perfDir) perfSummary = await phase('perf: symbols and summary of the recording', () => summarisePerf(perf, path.join(perfDir, 'perf.data'), perfDir, backlog.pid, backlog.threads));
  if (args['pg-stats']) {
    const rows = await db.db.execute(sql`select calls, round(total_exec_time::numeric, 1) as total_ms, round(mean_exec_time::numeric, 3) as mean_ms, rows, left(regexp_replace(query, '[[:space:]]+', ' ', 'g'), 160) as query from pg_stat_statements order by total_exec_time desc limit 30`);
    const text = (rows as unknown as Record<string, unknown>[]).map((r) => `${String(r.calls).padStart(7)} ${String(r.total_ms).padStart(9)} ms ${String(r.mean_ms).padStart(8)} ms/call ${String(r.rows).padStart(7)} rows  ${r.query}`).join('\n');
    writeFileSync(path.join(runDir, 'pg-stats.txt'), `${text}\n`);
    log(`  statements during the backlog (pg_stat_statements, by total time):\n${text}`);
  }
  // Checked in SQL on the schema rather than through a repo: the benchmark must not trust the code it measures.
  const [done] = await db.db
    .select({ n: sql<number>`count(*)::int` })
    .from(requests)
    .where(and(eq(requests.status, 'completed'), inArray(requests.id, backlogShares.map((s) => s.requestId))));
  const nCompleted = done?.n ?? 0;
  if (nCompleted !== config.backlog) throw new Error(`only ${nCompleted} of the ${config.backlog} backlog requests are completed in the database`);

  const figures: Figures = {
    imap_latency_ms: { p50: median(imapSamples.map((s) => s.latencyMs)), p99: percentile(imapSamples.map((s) => s.latencyMs), 99) },
    smtp_intake_latency_ms: { p50: median(smtpSamples.map((s) => s.latencyMs)), p99: percentile(smtpSamples.map((s) => s.latencyMs), 99) },
    backlog_replies_per_s: backlog.perS,
    backlog_seconds: backlog.seconds,
    raw_replies_per_s: raw.perS,
    backlog_vs_raw: backlog.perS / raw.perS,
    rss_peak_mb: backlog.rssPeakMb,
    render_per_s: render.renderPerS,
    render_speedup: render.speedup,
    dovecot_idle_notify_ms: idle.median,
    extract_adversarial_ms: extraction.worstMedianCpuMs,
  };
  const targets = evaluateTargets(figures);
  let profile: ReturnType<typeof busiestProfile> = null;
  if (profileDir) {
    profile = busiestProfile(profileDir);
    if (!profile) log('  no CPU profile was written (did Mailgrant exit cleanly?)');
  }
  const details = {
    mode: quick ? 'quick' : 'full',
    command,
    runner,
    build_ok: buildOk,
    started_at: started.toISOString(),
    machine: { ...machineAtStart, load_average_at_end: os.loadavg().map((l) => round(l, 2)) },
    samples: { imap: imapSamples.length, smtp: smtpSamples.length, backlog: config.backlog, idle: idle.samples.length },
    mails_per_reply: perReply,
    reply_bytes_avg: Math.round(bytes / config.backlog),
    imap_latency_breakdown_ms: imapBreakdown,
    smtp_intake_latency_breakdown_ms: { ...smtpBreakdown, ack: median(smtpSamples.map((s) => s.ackMs ?? NaN)) },
    imap_latency_ms_p90: percentile(imapSamples.map((s) => s.latencyMs), 90),
    smtp_intake_latency_ms_p90: percentile(smtpSamples.map((s) => s.latencyMs), 90),
    backlog: { startup_ms: backlog.startupMs, rss_at_ready_mb: backlog.rssAtReadyMb, rss_peak_drain_mb: backlog.rssPeakDrainMb, rss_timeline_mb: backlog.rssTimeline, all_mail_seconds: backlog.allMailSeconds, rss_samples: backlog.rssSamples, cpu_seconds: backlog.cpu, mailgrant_thread_cpu_seconds: backlog.threads, db: backlog.db },
    raw: { seconds: raw.seconds, smtp_connections: config.smtpConnections, cpu_seconds: raw.cpu },
    render_mjml_per_mail_per_s: render.mjmlPerMailPerS,
    extract_adversarial: { repeats: config.extractRepeats, slowest: extraction.worstCase, median_cpu_ms: extraction.cases },
    dovecot_idle_notify_samples_ms: idle.samples,
    logs: path.relative(REPO_ROOT, runDir),
    step_seconds: stepTimes,
    step_cpu_seconds: stepCpu,
    profile: profile && { file: path.relative(REPO_ROOT, profile.file), buckets: profile.buckets, functions: profile.functions },
    perf: perfSummary && { ...perfSummary, file: path.relative(REPO_ROOT, perfSummary.file) },
  };
  mkdirSync(path.dirname(outFile), { recursive: true });
  writeResults(outFile, figures, targets, details);

  process.stdout.write(`\n${table(figures, targets)}\n\n${summary(details)}\n`);
  if (profile) process.stdout.write(`${formatProfile(profile)}\n`);
  if (perfSummary) process.stdout.write(`${formatPerf(perfSummary)}\n`);
  process.stdout.write(`\nResults written to ${path.relative(process.cwd(), outFile)}; Mailgrant's logs are in ${path.relative(process.cwd(), runDir)}\n`);
  const failed = targets.filter((t) => !t.pass);
  if (failed.length && args['check-targets']) return 3;
  return 0;
}

const watchdog = setTimeout(() => {
  log(`the benchmark exceeded its ${config.budgetMs / 60_000} min budget during step "${step}"; stopping`);
  void cleanup().finally(() => process.exit(1));
}, config.budgetMs);
watchdog.unref();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal} during step "${step}": stopping the servers`);
    void cleanup().finally(() => process.exit(130));
  });
}

main()
  .catch((err: Error) => {
    log(`FAILED during step "${step}": ${err.message}`);
    if (!(err.name === 'BenchTimeout') && err.stack) process.stderr.write(`${err.stack}\n`);
    return 1;
  })
  .then(async (code) => {
    await cleanup();
    clearTimeout(watchdog);
    process.exit(code);
  });
