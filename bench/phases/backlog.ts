/**
 * The backlog: N replies are already in the mailbox when Mailgrant starts. Timed from the moment
 * its IMAP intake is connected (startup reported apart) to the moment the sink has every outcome
 * mail; Mailgrant's memory is sampled from /proc every 100 ms meanwhile.
 */
import { and, eq, gte, sql } from 'drizzle-orm';
import type { Database } from '../../src/db/client.js';
import { inboundMessages } from '../../src/db/schema/index.js';
import type { MailgrantProcess } from '../mailgrant.js';
import { cpuSeconds, cpuSnapshot, serverGroups, threadCpuSeconds, threadTicks, type ThreadCpu } from '../proc.js';
import type { BenchSink } from '../sink.js';
import { log, now } from '../util.js';

export interface BacklogResult {
  startupMs: number;
  seconds: number;
  perS: number;
  /** Until the last receipt too. */
  allMailSeconds: number;
  /** VmHWM: the process's peak resident memory over its whole life (start-up included). */
  rssPeakMb: number;
  /** VmRSS when the intake connected, and its highest 100 ms sample while draining. */
  rssAtReadyMb: number;
  rssPeakDrainMb: number;
  /** [seconds since the intake connected, VmRSS MB] every 5 s: growth that plateaus, or a leak. */
  rssTimeline: [number, number][];
  rssSamples: number;
  cpu: Record<string, number>;
  /** Mailgrant's CPU seconds by thread (bench/proc.ts, `threadCpuSeconds`). */
  threads: ThreadCpu;
  /** Mailgrant's pid (its threads' ids are in `threads`). */
  pid: number;
  db: { avgTransactionMs: number; transactionShare: number; firstTransactionAfterMs: number; lastTransactionEndToLastOutcomeMs: number };
}

export async function runBacklog(o: {
  db: Database;
  sink: BenchSink;
  requestIds: ReadonlySet<number>;
  mailsPerReply: number;
  start: () => Promise<MailgrantProcess>;
  progressEvery: number;
  stallMs: number;
  /**
   * Started on Mailgrant's pid when the first outcome mail is in, stopped when the last is (e.g.
   * perf.ts's recording). Not at the drain's start: the parse worker's thread starts with the
   * first messages, and `perf record -p` follows only the threads there when it attaches.
   */
  profiler?: (pid: number) => { stop(): Promise<void> };
}): Promise<BacklogResult> {
  const n = o.requestIds.size;
  let outcomes = 0;
  let all = 0;
  let lastOutcomeAt = 0;
  let lastMailAt = 0;
  let lastProgress = now();
  let finish: (() => void) | null = null;
  let startProfiling: (() => void) | null = null;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const off = o.sink.onMail((m) => {
    if (m.requestId === null || !o.requestIds.has(m.requestId)) return;
    lastProgress = now();
    all++;
    lastMailAt = m.at;
    if (m.kind.startsWith('outcome-')) {
      outcomes++;
      if (outcomes === 1) startProfiling?.();
      lastOutcomeAt = m.at;
      if (outcomes % o.progressEvery === 0) log(`  backlog: ${outcomes}/${n} outcome mails at the sink`);
    }
    if (outcomes >= n && all >= n * o.mailsPerReply) finish?.();
  });

  const t0 = now();
  const wallStart = new Date();
  const mg = await o.start();
  let rssPeak = 0;
  let rssPeakDrain = 0;
  let rssAtReady = NaN;
  let ready = false;
  let rssSamples = 0;
  let tReadyAt = 0;
  const rssTimeline: [number, number][] = [];
  const sampleRss = () => {
    const m = mg.memory();
    if (m) {
      rssPeak = Math.max(rssPeak, m.rssMb, m.hwmMb);
      if (ready) {
        rssPeakDrain = Math.max(rssPeakDrain, m.rssMb);
        const sinceReady = (now() - tReadyAt) / 1000;
        if (sinceReady >= 5 * rssTimeline.length) rssTimeline.push([Math.round(sinceReady), Math.round(m.rssMb)]);
      }
      rssSamples++;
    }
  };
  const sampler = setInterval(sampleRss, 100);
  let profiling: { stop(): Promise<void> } | undefined;
  try {
    await mg.waitForLog(/IMAP connected; waiting for mail/, 60_000, 'the IMAP intake to connect');
    const tReady = now();
    rssAtReady = mg.memory()?.rssMb ?? NaN;
    tReadyAt = tReady;
    ready = true;
    const groups = serverGroups();
    const cpu0 = cpuSnapshot(groups);
    const threads0 = threadTicks(mg.pid);
    if (o.profiler) {
      startProfiling = () => (profiling = o.profiler!(mg.pid));
      if (outcomes > 0) startProfiling(); // the first outcome came before the log was read
    }
    log(`  Mailgrant (pid ${mg.pid}) connected after ${(tReady - t0).toFixed(0)} ms; draining ${n} replies`);
    await new Promise<void>((resolve, reject) => {
      const watchdog = setInterval(() => {
        if (now() - lastProgress > o.stallMs) {
          clearInterval(watchdog);
          const errors = mg.errorLines();
          reject(new Error(
            `backlog stalled: no mail for the backlog requests at the sink for ${o.stallMs / 1000} s ` +
              `(waiting for ${n} outcome mails and ${n * o.mailsPerReply} mails in all; ${outcomes} outcomes, ${all} mails so far)` +
              (errors.length ? `\n--- Mailgrant errors (last 5) ---\n${errors.slice(-5).join('\n')}` : `\n--- Mailgrant output ---\n${mg.tail(15)}`),
          ));
        }
      }, 1000);
      finished.then(() => {
        clearInterval(watchdog);
        resolve();
      }, reject);
    });
    sampleRss();
    const cpu = cpuSeconds(cpu0, cpuSnapshot(groups));
    const threads = threadCpuSeconds(mg.pid, threads0, threadTicks(mg.pid));
    await profiling?.stop();
    const seconds = (lastOutcomeAt - tReady) / 1000;
    const errors = mg.errorLines();
    if (errors.length > 0) log(`  WARNING: Mailgrant logged ${errors.length} error line(s) during the backlog; first: ${errors[0]!.slice(0, 300)}`);
    return {
      startupMs: tReady - t0,
      seconds,
      perS: n / seconds,
      allMailSeconds: (lastMailAt - tReady) / 1000,
      rssPeakMb: rssPeak,
      rssAtReadyMb: rssAtReady,
      rssPeakDrainMb: rssPeakDrain,
      rssTimeline,
      rssSamples,
      cpu,
      threads,
      pid: mg.pid,
      db: await transactionStats(o.db, wallStart, tReady, t0, lastOutcomeAt),
    };
  } finally {
    await profiling?.stop().catch(() => {}); // a failed drain: its error is the one to report
    clearInterval(sampler);
    off();
    await mg.stop();
  }
}

/** How much of the backlog's wall time Mailgrant spent inside its handling transactions. */
async function transactionStats(db: Database, since: Date, tReady: number, t0: number, lastOutcomeAt: number): Promise<BacklogResult['db']> {
  const [row] = await db
    .select({
      n: sql<number>`count(*)::int`,
      sumMs: sql<number>`coalesce(sum(extract(epoch from (${inboundMessages.processedAt} - ${inboundMessages.receivedAt})) * 1000), 0)::float8`,
      first: sql<string>`min(${inboundMessages.receivedAt})`,
      last: sql<string>`max(${inboundMessages.processedAt})`,
    })
    .from(inboundMessages)
    .where(and(eq(inboundMessages.source, 'imap'), gte(inboundMessages.receivedAt, since)));
  const n = row?.n ?? 0;
  const wallMs = lastOutcomeAt - tReady;
  // Convert the harness's monotonic times to wall-clock times through the spawn moment.
  const wallOf = (t: number) => since.getTime() + (t - t0);
  const first = row?.first ? new Date(row.first).getTime() : NaN;
  const last = row?.last ? new Date(row.last).getTime() : NaN;
  return {
    avgTransactionMs: n ? (row!.sumMs / n) : NaN,
    transactionShare: wallMs > 0 ? row!.sumMs / wallMs : NaN,
    firstTransactionAfterMs: first - wallOf(tReady),
    lastTransactionEndToLastOutcomeMs: wallOf(lastOutcomeAt) - last,
  };
}
