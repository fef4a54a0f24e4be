/**
 * The benchmark's `--perf` summary (bench/perf.ts): how `perf script` samples are charged to
 * threads and packages. The recording itself needs perf and a running Mailgrant (`npm run bench
 * -- --perf`); this checks the tally on samples as perf prints them after `perf inject --jit`.
 */
import { describe, expect, it } from 'vitest';
import { PerfTally, threadKinds } from '../../bench/perf.js';

const JIT = '(/work/main/.tmp/perf/jitted-100-7.so)';
// perf pads the thread id to its column: a short one starts with spaces.
const sample = (tid: number, ...frames: string[]) => [`${String(tid).padStart(7)} `, ...frames.map((f) => `\t    ${(0x7f4).toString(16)} ${f}`), ''];

const lines = [
  // Main thread: nodemailer's transform, called from Mailgrant's dispatcher: nodemailer owns it.
  ...sample(100, `JS:*_transform file:///work/main/node_modules/nodemailer/dist/esm/smtp-connection/data-stream.js:26:15 ${JIT}`, `JS:^deliver file:///work/main/dist/mail/outbound/dispatcher.js:80:27 ${JIT}`),
  // Main thread: a socket write in the kernel under postgres.js: postgres owns it, and it counts as kernel time.
  ...sample(100, 'tcp_sendmsg ([kernel.kallsyms])', '__GI___libc_write (/usr/lib/x86_64-linux-gnu/libc.so.6)', `JS:*nextWrite file:///work/main/node_modules/postgres/src/connection.js:254:21 ${JIT}`),
  // Main thread: a scavenge with no JavaScript of ours on the stack.
  ...sample(100, 'v8::internal::Scavenger::ScavengeObject<v8::internal::FullHeapObjectSlot> (/usr/bin/node)', 'uv_run (/usr/bin/node)'),
  // Main thread: Node's own stream code only.
  ...sample(100, `JS:*onStreamRead node:internal/stream_base_commons:168:22 ${JIT}`, 'uv__read (/usr/bin/node)'),
  // The parse worker: mailsplit, under Mailgrant's reader.
  ...sample(200, `JS:*iterateData file:///work/main/node_modules/@zone-eu/mailsplit/lib/message-splitter.js:307:23 ${JIT}`, `JS:^readMessage file:///work/main/dist/mail/inbound/read-message.js:9:34 ${JIT}`),
  // One of V8's threads started with the process.
  ...sample(101, 'v8::internal::compiler::GraphReducer::ReduceTop (/usr/bin/node)'),
];

describe('bench --perf: PerfTally', () => {
  const kinds = threadKinds(100, {
    main: 0, workers: 0, node_helpers: 0, system: 0,
    each: [
      { tid: 100, started_after_s: 0, seconds: 1, system_seconds: 0 },
      { tid: 101, started_after_s: 0.05, seconds: 1, system_seconds: 0 },
      { tid: 200, started_after_s: 3.7, seconds: 1, system_seconds: 0 },
    ],
  });

  it('tells the main thread, the parse worker and V8\'s threads apart by their start', () => {
    expect([kinds(100), kinds(101), kinds(200), kinds(999)]).toEqual(['main', 'node_helpers', 'workers', 'node_helpers']);
  });

  it('charges each sample to the leaf-most package or Mailgrant folder, per thread kind', () => {
    const tally = new PerfTally(kinds);
    for (const l of lines) tally.line(l);
    const s = tally.result('perf.data');
    expect(s.samples).toBe(6);
    expect(s.seconds.main * 499).toBeCloseTo(4);
    expect(s.kernel_share).toBeCloseTo(1 / 6);
    expect(s.gc_share).toBeCloseTo(1 / 6);
    const main = Object.fromEntries(s.buckets.main.map((b) => [b.name, b.share]));
    expect(main).toEqual({ nodemailer: 0.25, postgres: 0.25, '(garbage collection)': 0.25, '(Node and V8, no JavaScript of ours)': 0.25 });
    expect(s.buckets.workers).toEqual([{ name: '@zone-eu/mailsplit', share: 1 }]);
    expect(s.buckets.node_helpers).toEqual([{ name: '(Node and V8, no JavaScript of ours)', share: 1 }]);
    // Functions count each sample once per function on its stack, callers included.
    const fns = Object.fromEntries(s.functions.main.map((f) => [f.name, f.share]));
    expect(fns['deliver dist/mail/outbound/dispatcher.js:80']).toBe(0.25);
    expect(fns['_transform nodemailer/dist/esm/smtp-connection/data-stream.js:26']).toBe(0.25);
    expect(s.functions.workers.map((f) => f.name)).toEqual(['iterateData @zone-eu/mailsplit/lib/message-splitter.js:307', 'readMessage dist/mail/inbound/read-message.js:9']);
  });
});
