/**
 * `--perf`: Linux perf's sampling of Mailgrant's process during the backlog, summarised by
 * thread and by package.
 *
 * Why beside `--profile` (V8's own profiler): on this machine the two disagree. V8's profile put
 * a third of the main thread's time in socket writes (`writeBuffer`); perf, sampling on the
 * kernel's timer, finds ~5 % there, and /proc says the whole process spent 8 % of its CPU in the
 * kernel at all. Decisions taken on the V8 profile (fewer round trips, fewer writes per mail)
 * measured no CPU gain, which perf's figures explain. perf also sees every thread: the parse
 * worker, and V8's own threads.
 *
 * Node writes each compiled function's code to a jitdump (`--perf-prof`, `jit-PID.dump` in its
 * working directory); `perf inject --jit` turns it into symbols, so JavaScript frames keep their
 * names even where V8 moved or freed the code (the plain perf map of `--perf-basic-prof` named
 * frames wrongly here: MJML's start-up code showed up in the parse worker).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { ensureDebianPackage, runToCompletion } from '../test/helpers/install.js';
import { bucketOf } from './profile.js';
import { threadKind, type ThreadCpu, type ThreadKind as Kind } from './proc.js';

/** Node flags that make the jitdump perf needs (see the header). */
export const PERF_NODE_FLAGS = ['--perf-prof', '--interpreted-frames-native-stack'];

/** Samples per second per thread: enough for a 10 s drain, light enough for a 100 s one. */
const FREQUENCY = 499;

/** perf's path, installed from Debian's linux-perf when missing; throws when it cannot sample here. */
export async function ensurePerf(): Promise<string> {
  const perf = await ensureDebianPackage('perf', 'linux-perf');
  // Hardware counters are often missing in a VM; the kernel's cpu-clock is not, but
  // perf_event_paranoid can still forbid it.
  await runToCompletion(perf, ['record', '-q', '-e', 'cpu-clock', '-o', '/dev/null', '--', 'true']).catch((err: Error) => {
    throw new Error(`perf cannot sample on this machine; check /proc/sys/kernel/perf_event_paranoid. ${err.message}`);
  });
  return perf;
}

export interface PerfRecording {
  /** Ends the recording (SIGINT, as perf expects) and waits for perf to write its file. */
  stop(): Promise<void>;
}

/** Samples every thread of `pid` with call stacks until stopped. */
export function recordPerf(perf: string, pid: number, file: string): PerfRecording {
  // -k mono: the clock Node's jitdump uses, which `perf inject --jit` needs to match code to samples.
  const p: ChildProcess = spawn(perf, ['record', '-q', '-k', 'mono', '-F', String(FREQUENCY), '-e', 'cpu-clock', '-g', '-p', String(pid), '-o', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  p.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => p.on('close', resolve));
  let stopped: Promise<void> | undefined;
  return {
    stop() {
      stopped ??= (async () => {
        p.kill('SIGINT');
        const code = await exited;
        if (code !== 0 && code !== null) throw new Error(`perf record exited with ${code}: ${stderr.trim()}`);
      })();
      return stopped;
    },
  };
}

export interface PerfSummary {
  file: string;
  samples: number;
  /** Sampled seconds per thread kind (see ThreadCpu): what the shares below are shares of. */
  seconds: Record<Kind, number>;
  /** Share of all samples whose leaf was in the kernel (system calls, page faults, interrupts). */
  kernel_share: number;
  /** Share of all samples inside V8's garbage collector. */
  gc_share: number;
  /** Per thread kind: time by package / Mailgrant folder, natives charged to the JavaScript that called them. */
  buckets: Record<Kind, { name: string; share: number }[]>;
  /** Per thread kind: the busiest JavaScript functions, by time in them and what they called. */
  functions: Record<Kind, { name: string; share: number }[]>;
}

const KINDS: Kind[] = ['main', 'workers', 'node_helpers'];

/** A JavaScript frame as perf script prints it after `perf inject --jit`: "JS:*name file:///…/x.js:12:5". */
const JS_FRAME = /^JS:[*^~]?(\S*) (\S+?):(\d+):\d+$/;
const GC_FRAME = /v8::internal::(Heap::|Scavenger|MarkCompact|Sweeper|IncrementalMarking|ConcurrentMarking|MinorMarkCompact|ScavengeJob|MarkingVisitor)/;

/**
 * Counts `perf script -F tid,ip,sym,dso` output, one line at a time: each sample is a header line
 * (its thread id) and its frames, leaf first. `kindOf` says which thread is which.
 */
export class PerfTally {
  private samples = 0;
  private kernel = 0;
  private gc = 0;
  private readonly counts: Record<Kind, number> = { main: 0, workers: 0, node_helpers: 0 };
  private readonly buckets: Record<Kind, Map<string, number>> = { main: new Map(), workers: new Map(), node_helpers: new Map() };
  private readonly functions: Record<Kind, Map<string, number>> = { main: new Map(), workers: new Map(), node_helpers: new Map() };
  private tid = 0;
  private frames: string[] = [];

  constructor(private readonly kindOf: (tid: number) => Kind) {}

  line(line: string): void {
    if (line === '') return;
    // A frame line starts with a tab; a sample's first line with its thread id, padded with spaces.
    if (line[0] !== '\t') {
      this.flush();
      this.tid = Number(line.trim().split(/\s+/)[0]);
    } else {
      // "\t   7f4 JS:^deliver file:///…:80:27 (/…/jitted-1-2.so)": without the address.
      this.frames.push(line.trim().replace(/^[0-9a-f]+ /, ''));
    }
  }

  private flush(): void {
    const frames = this.frames;
    if (frames.length === 0) return;
    this.frames = [];
    const kind = this.kindOf(this.tid);
    this.samples++;
    this.counts[kind]++;
    if (frames[0]!.endsWith('([kernel.kallsyms])')) this.kernel++;
    const inGc = frames.some((f) => GC_FRAME.test(f));
    if (inGc) this.gc++;
    // The leaf-most frame of Mailgrant or a package owns the sample (as in profile.ts); a stack
    // with none is Node's or V8's own work (garbage collection, compilation, the event loop).
    let owner: string | null = null;
    const seen = new Set<string>();
    for (const f of frames) {
      const m = JS_FRAME.exec(f.replace(/ \([^()]*\)$/, ''));
      if (!m || !/node_modules\/|\/dist\/|\/src\//.test(m[2]!)) continue;
      const url = m[2]!;
      owner ??= bucketOf(url, m[1]!);
      const fn = `${m[1] || '(anonymous)'} ${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(src|dist)\//, '$1/')}:${m[3]}`;
      if (!seen.has(fn)) {
        seen.add(fn);
        bump(this.functions[kind], fn);
      }
    }
    bump(this.buckets[kind], owner ?? (inGc ? '(garbage collection)' : '(Node and V8, no JavaScript of ours)'));
  }

  result(file: string, top = 12): PerfSummary {
    this.flush();
    const sorted = (m: Map<string, number>, n: number) =>
      [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, c]) => ({ name, share: c / Math.max(1, n) }));
    const { counts } = this;
    return {
      file,
      samples: this.samples,
      seconds: { main: counts.main / FREQUENCY, workers: counts.workers / FREQUENCY, node_helpers: counts.node_helpers / FREQUENCY },
      kernel_share: this.kernel / Math.max(1, this.samples),
      gc_share: this.gc / Math.max(1, this.samples),
      buckets: Object.fromEntries(KINDS.map((k) => [k, sorted(this.buckets[k], counts[k])])) as PerfSummary['buckets'],
      functions: Object.fromEntries(KINDS.map((k) => [k, sorted(this.functions[k], counts[k])])) as PerfSummary['functions'],
    };
  }
}

const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);

/** Which kind of thread a thread id is, from /proc's by-thread figures (see threadCpuSeconds). */
export function threadKinds(pid: number, threads: ThreadCpu): (tid: number) => Kind {
  const kinds = new Map<number, Kind>(threads.each.map((t) => [t.tid, threadKind(pid, t.tid, t.started_after_s)]));
  return (tid) => kinds.get(tid) ?? 'node_helpers';
}

/**
 * Turns the recording into symbols (`perf inject --jit`), tallies `perf script` as it streams
 * (a 100 s drain prints a few hundred MB), and removes the per-function files the injection
 * writes beside the jitdump.
 */
export async function summarisePerf(perf: string, file: string, jitDir: string, pid: number, threads: ThreadCpu): Promise<PerfSummary> {
  const injected = `${file}.jit`;
  try {
    // It writes a file per compiled function: minutes for a long recording.
    await runToCompletion(perf, ['inject', '--jit', '-i', file, '-o', injected], { timeoutMs: 15 * 60_000 });
    const tally = new PerfTally(threadKinds(pid, threads));
    const script = spawn(perf, ['script', '-i', injected, '-F', 'tid,ip,sym,dso'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    script.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    const closed = new Promise<number | null>((resolve) => script.on('close', resolve));
    for await (const line of createInterface({ input: script.stdout, crlfDelay: Infinity })) tally.line(line);
    const code = await closed;
    if (code !== 0) throw new Error(`perf script failed: ${stderr.trim()}`);
    const summary = tally.result(file);
    if (summary.samples === 0) throw new Error(`perf recorded no samples of pid ${pid}`);
    return summary;
  } finally {
    rmSync(injected, { force: true });
    // `perf inject --jit` writes one jitted-PID-N.so per function beside the jitdump.
    for (const f of readdirSync(jitDir)) if (/^jitted-\d+-\d+\.so$/.test(f) || f === `jit-${pid}.dump`) rmSync(path.join(jitDir, f), { force: true });
  }
}

export function formatPerf(s: PerfSummary): string {
  const pct = (x: number) => `${(x * 100).toFixed(1).padStart(5)} %`;
  const lines = [
    `perf profile of Mailgrant during the backlog (${s.samples} samples at ${FREQUENCY} Hz; ${pct(s.kernel_share).trim()} in the kernel, ${pct(s.gc_share).trim()} in garbage collection):`,
  ];
  const names: Record<Kind, string> = { main: 'main thread', workers: 'worker threads (parsing)', node_helpers: "Node's own threads" };
  for (const k of KINDS) {
    if (s.seconds[k] === 0) continue;
    lines.push(` ${names[k]}, ${s.seconds[k].toFixed(1)} s sampled; by package / Mailgrant folder (natives charged to their caller):`);
    lines.push(...s.buckets[k].slice(0, 8).map((b) => `  ${pct(b.share)}  ${b.name}`));
    if (s.functions[k].length) {
      lines.push('  busiest functions (time in them and what they called):');
      lines.push(...s.functions[k].slice(0, 8).map((f) => `  ${pct(f.share)}  ${f.name}`));
    }
  }
  return lines.join('\n');
}
