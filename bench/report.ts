/** The figures: targets with PASS/FAIL, the table printed at the end, and bench/results.json. */
import { writeFileSync } from 'node:fs';
import { round } from './util.js';
import type { ThreadCpu } from './proc.js';

export interface Figures {
  imap_latency_ms: { p50: number; p99: number };
  smtp_intake_latency_ms: { p50: number; p99: number };
  backlog_replies_per_s: number;
  backlog_seconds: number;
  raw_replies_per_s: number;
  backlog_vs_raw: number;
  rss_peak_mb: number;
  render_per_s: number;
  render_speedup: number;
  dovecot_idle_notify_ms: number;
  extract_adversarial_ms: number;
}

/** The keys every results.json has, each a finite number (the smoke test checks them). */
export const FIGURE_KEYS = [
  'imap_latency_ms.p50', 'imap_latency_ms.p99', 'smtp_intake_latency_ms.p50', 'smtp_intake_latency_ms.p99',
  'backlog_replies_per_s', 'backlog_seconds', 'raw_replies_per_s', 'backlog_vs_raw', 'rss_peak_mb',
  'render_per_s', 'render_speedup', 'dovecot_idle_notify_ms', 'extract_adversarial_ms',
] as const;

export interface TargetResult {
  name: string;
  value: number;
  target: string;
  pass: boolean;
}

export function evaluateTargets(f: Figures): TargetResult[] {
  const le = (name: string, value: number, limit: number, label = String(limit)): TargetResult => ({ name, value, target: `≤ ${label}`, pass: value <= limit });
  const ge = (name: string, value: number, limit: number): TargetResult => ({ name, value, target: `≥ ${limit}`, pass: value >= limit });
  const idleBound = f.dovecot_idle_notify_ms + 100;
  return [
    le('imap_latency_ms.p50', f.imap_latency_ms.p50, idleBound, `${round(idleBound)} (dovecot_idle_notify_ms + 100)`),
    le('imap_latency_ms.p99', f.imap_latency_ms.p99, 1000),
    le('smtp_intake_latency_ms.p50', f.smtp_intake_latency_ms.p50, 50),
    ge('backlog_replies_per_s', f.backlog_replies_per_s, 500),
    ge('backlog_vs_raw', f.backlog_vs_raw, 0.5),
    le('rss_peak_mb', f.rss_peak_mb, 250),
    ge('render_speedup', f.render_speedup, 100),
    // Not one of issue 6's targets: the reply extractor's own bound on hostile 1 MB bodies, kept
    // here rather than in a timed unit test (the tests check that such bodies are read right).
    le('extract_adversarial_ms', f.extract_adversarial_ms, 50),
  ];
}

function row(cells: string[], widths: number[]): string {
  return cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
}

export function table(f: Figures, targets: TargetResult[]): string {
  const byName = new Map(targets.map((t) => [t.name, t]));
  const lines: [string, number, string][] = [
    ['imap_latency_ms.p50', f.imap_latency_ms.p50, 'ms'],
    ['imap_latency_ms.p99', f.imap_latency_ms.p99, 'ms'],
    ['smtp_intake_latency_ms.p50', f.smtp_intake_latency_ms.p50, 'ms'],
    ['smtp_intake_latency_ms.p99', f.smtp_intake_latency_ms.p99, 'ms'],
    ['backlog_replies_per_s', f.backlog_replies_per_s, '/s'],
    ['backlog_seconds', f.backlog_seconds, 's'],
    ['raw_replies_per_s', f.raw_replies_per_s, '/s'],
    ['backlog_vs_raw', f.backlog_vs_raw, ''],
    ['rss_peak_mb', f.rss_peak_mb, 'MB'],
    ['render_per_s', f.render_per_s, '/s'],
    ['render_speedup', f.render_speedup, '×'],
    ['dovecot_idle_notify_ms', f.dovecot_idle_notify_ms, 'ms'],
    ['extract_adversarial_ms', f.extract_adversarial_ms, 'ms'],
  ];
  const cells = lines.map(([name, value, unit]) => {
    const t = byName.get(name);
    const digits = name === 'backlog_vs_raw' ? 2 : 1;
    return [name, `${round(value, digits)} ${unit}`.trim(), t ? t.target : '', t ? (t.pass ? 'PASS' : 'FAIL') : ''];
  });
  const header = ['figure', 'value', 'target', ''];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  return [row(header, widths), row(widths.map((w) => '-'.repeat(w)), widths), ...cells.map((c) => row(c, widths))].join('\n');
}

/** Rounds every number in a JSON-able value, so results.json reads well. */
function tidy(v: unknown): unknown {
  if (typeof v === 'number') return Number.isInteger(v) ? v : round(v, 3);
  if (Array.isArray(v)) return v.map(tidy);
  if (v && typeof v === 'object' && !(v instanceof Date)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, tidy(x)]));
  return v;
}

export function writeResults(file: string, f: Figures, targets: TargetResult[], details: Record<string, unknown>): void {
  writeFileSync(file, `${JSON.stringify(tidy({ ...f, targets, details }), null, 2)}\n`);
}

type Cpu = Record<string, number>;
const cpuLine = (cpu: Cpu) => Object.entries(cpu).filter(([k]) => k !== 'wall').map(([k, v]) => `${k} ${round(v)}`).join(', ');

/** The lines under the table: where the latency went, who used the CPU, and how busy the machine was. */
export function summary(d: {
  imap_latency_breakdown_ms: { pickupMs: number; transactionMs: number; dispatchMs: number };
  smtp_intake_latency_breakdown_ms: { pickupMs: number; transactionMs: number; dispatchMs: number; ack: number };
  backlog: { cpu_seconds: Cpu; mailgrant_thread_cpu_seconds: ThreadCpu; db: { transactionShare: number; avgTransactionMs: number } };
  raw: { cpu_seconds: Cpu };
  machine: { cores: number; cpu_model: string; memory_gb: number; load_average_at_start: number[]; load_average_at_end: number[] };
}): string {
  const i = d.imap_latency_breakdown_ms;
  const s = d.smtp_intake_latency_breakdown_ms;
  const cpu = d.backlog.cpu_seconds;
  const m = d.machine;
  const otherShare = (cpu.other_processes ?? 0) / ((cpu.wall ?? NaN) * m.cores);
  const lines = [
    `IMAP latency (median): pickup ${round(i.pickupMs)} ms, transaction ${round(i.transactionMs)} ms, dispatch ${round(i.dispatchMs)} ms`,
    `SMTP intake latency (median): 250 after ${round(s.ack)} ms; pickup ${round(s.pickupMs)} ms, transaction ${round(s.transactionMs)} ms, dispatch ${round(s.dispatchMs)} ms`,
    `Backlog CPU seconds over ${round(cpu.wall ?? NaN)} s wall: ${cpuLine(cpu)}; ` +
      `handling transactions took ${round(d.backlog.db.transactionShare * 100)} % of the wall time summed over the concurrent transactions (avg ${round(d.backlog.db.avgTransactionMs)} ms each)`,
    `Mailgrant's CPU seconds by thread: main ${round(d.backlog.mailgrant_thread_cpu_seconds.main)}, worker threads (parsing) ${round(d.backlog.mailgrant_thread_cpu_seconds.workers)}, ` +
      `Node's own threads (V8's garbage collection and compiler, libuv) ${round(d.backlog.mailgrant_thread_cpu_seconds.node_helpers)}; ` +
      `of all these, in the kernel (system calls) ${round(d.backlog.mailgrant_thread_cpu_seconds.system)}`,
    `Raw baseline CPU seconds over ${round(d.raw.cpu_seconds.wall ?? NaN)} s wall: ${cpuLine(d.raw.cpu_seconds)}`,
    `Machine: ${m.cores} cores (${m.cpu_model}), ${m.memory_gb} GB; load average ${m.load_average_at_start[0]} at start, ${m.load_average_at_end[0]} at the end; ` +
      `other processes used ${round(otherShare * 100)} % of the machine during the backlog`,
  ];
  if (otherShare > 0.2 || (m.load_average_at_start[0] ?? 0) > m.cores) {
    lines.push('WARNING: the machine was busy with other work during this run; the figures understate what Mailgrant and the servers can do.');
  }
  return lines.join('\n');
}
