/**
 * Summary of a V8 .cpuprofile (node --cpu-prof): self time per package or Mailgrant source
 * folder, and the busiest functions. Enough to say where Mailgrant's CPU goes (IMAP parsing,
 * MIME parsing, the reply extractor, SQL, rendering, SMTP) without opening a profiler.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Code of Mailgrant or of a package, as opposed to Node's internals and native functions. */
const isAppFrame = (url: string) => /node_modules\/|\/src\/|\/dist\//.test(url) && !/node_modules\/tsx\//.test(url);

export function bucketOf(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (nm) return nm[1]!;
  const src = /\/src\/(.+)\/[^/]+\.[jt]s$/.exec(url) ?? /\/dist\/(.+)\/[^/]+\.js$/.exec(url);
  if (src) return `mailgrant:${src[1]}`;
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  return path.basename(url);
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  /** Time not spent idle: what the shares below are shares of. */
  busyMs: number;
  buckets: { name: string; ms: number; share: number }[];
  functions: { name: string; ms: number; share: number }[];
}

export function summariseProfile(file: string, top = 15): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Node internals and native code (Buffer, streams, crypto, JSON) are charged to the package or
  // Mailgrant folder that called them: "nodemailer" then means nodemailer and what it made Node do.
  const owner = (id: number): ProfileNode => {
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur)!;
      if (isAppFrame(n.callFrame.url)) return n;
    }
    return byId.get(id)!;
  };
  const self = new Map<number, number>();
  // Each sample's time delta belongs to the node sampled.
  for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000);
  const buckets = new Map<string, number>();
  const functions = new Map<string, number>();
  let total = 0;
  for (const [id, ms] of self) {
    const n = byId.get(id)!;
    const { url, functionName, lineNumber } = n.callFrame;
    total += ms;
    const o = owner(id).callFrame;
    const b = bucketOf(o.url, o.functionName);
    buckets.set(b, (buckets.get(b) ?? 0) + ms);
    const f = `${functionName || '(anonymous)'} ${url ? `${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(src|dist)\//, '$1/')}:${lineNumber + 1}` : ''}`.trim();
    functions.set(f, (functions.get(f) ?? 0) + ms);
  }
  const busy = total - (buckets.get('(idle)') ?? 0);
  buckets.delete('(idle)');
  functions.delete('(idle)');
  const sorted = (m: Map<string, number>) =>
    [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, ms]) => ({ name, ms, share: ms / busy }));
  return { file, totalMs: total, busyMs: busy, buckets: sorted(buckets), functions: sorted(functions) };
}

/** The main thread's profile: of the files written (one per thread, e.g. tsx's loader), the busiest. */
export function busiestProfile(dir: string): ProfileSummary | null {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  const all = files.map((f) => summariseProfile(path.join(dir, f)));
  return all.sort((a, b) => b.busyMs - a.busyMs)[0] ?? null;
}

export function formatProfile(s: ProfileSummary): string {
  const line = (x: { name: string; ms: number; share: number }) => `  ${(x.share * 100).toFixed(1).padStart(5)} %  ${(x.ms / 1000).toFixed(2).padStart(7)} s  ${x.name}`;
  return [
    `CPU profile of Mailgrant during the backlog (${s.file}): ${(s.busyMs / 1000).toFixed(1)} s busy of ${(s.totalMs / 1000).toFixed(1)} s (start-up included).`,
    ' time by package / Mailgrant folder, Node internals charged to their caller (share of busy time):',
    ...s.buckets.map(line),
    ' busiest functions (self time):',
    ...s.functions.map(line),
  ].join('\n');
}
