/**
 * What /proc says about the processes the benchmark started: memory of the Mailgrant child and
 * CPU seconds per server, so a slow phase can be blamed on the process that was busy.
 *
 * Every server runs under the test helpers' sh wrapper (test/helpers/install.ts), spawned
 * detached: the wrapper is a child of this process, its argv[0] is `mailgrant-<name>`, and it
 * leads the process group that the server and all its workers belong to.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

interface ProcStat {
  pid: number;
  comm: string;
  ppid: number;
  pgrp: number;
  /** utime + stime in clock ticks. */
  ticks: number;
  /** stime alone: ticks in the kernel on its behalf (system calls, e.g. socket writes). */
  sys: number;
  /** When it started, in clock ticks since boot. */
  started: number;
}

let clkTck = 0;
function ticksPerSecond(): number {
  if (clkTck === 0) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

/** A process's stat, or a thread's (`/proc/PID/task/TID/stat`: the same fields). */
function readStat(pid: number, file = `/proc/${pid}/stat`): ProcStat | null {
  try {
    const text = readFileSync(file, 'utf8');
    const close = text.lastIndexOf(')');
    const comm = text.slice(text.indexOf('(') + 1, close);
    // Fields after "(comm)": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
    // cutime cstime priority nice num_threads itrealvalue starttime
    const f = text.slice(close + 2).split(' ');
    return { pid, comm, ppid: Number(f[1]), pgrp: Number(f[2]), ticks: Number(f[11]) + Number(f[12]), sys: Number(f[12]), started: Number(f[19]) };
  } catch {
    return null; // exited meanwhile
  }
}

function allStats(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(Number(name));
    if (s) out.push(s);
  }
  return out;
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

/** The pids of the helper wrappers this process started, by server name (postgres, dovecot, mailgrant). */
export function serverGroups(): Map<string, number> {
  const groups = new Map<string, number>();
  for (const s of allStats()) {
    if (s.ppid !== process.pid) continue;
    const m = /\bmailgrant-([a-z]+)\b/.exec(cmdline(s.pid));
    if (m) groups.set(m[1]!, s.pid);
  }
  return groups;
}

/** The process whose parent is `ppid` and whose command name is `comm` (e.g. the node under a wrapper). */
export function childOf(ppid: number, comm: string): number | null {
  return allStats().find((s) => s.ppid === ppid && s.comm === comm)?.pid ?? null;
}

export interface CpuSnapshot {
  at: number;
  /** Busy ticks of the whole machine (all cores), from /proc/stat. */
  machineTicks: number;
  /** pid → ticks, per group name. */
  byGroup: Map<string, Map<number, number>>;
  harness: NodeJS.CpuUsage;
}

/**
 * CPU ticks of every live process of each named server, and of this process. A server's
 * processes are those of its process group and their descendants: PostgreSQL backends call
 * setsid() and leave the group, but stay children of the postmaster.
 */
export function cpuSnapshot(groups: ReadonlyMap<string, number>): CpuSnapshot {
  const byGroup = new Map<string, Map<number, number>>();
  const stats = allStats();
  for (const [name, pgid] of groups) {
    const m = new Map<number, number>();
    for (const s of stats) if (s.pgrp === pgid) m.set(s.pid, s.ticks);
    for (let grew = true; grew; ) {
      grew = false;
      for (const s of stats) {
        if (!m.has(s.pid) && m.has(s.ppid)) {
          m.set(s.pid, s.ticks);
          grew = true;
        }
      }
    }
    byGroup.set(name, m);
  }
  return { at: Date.now(), machineTicks: machineBusyTicks(), byGroup, harness: process.cpuUsage() };
}

/**
 * CPU seconds each group used between two snapshots. Processes that exited in between are
 * missing from the end snapshot, so their time is lost: the figures are a lower bound.
 */
export function cpuSeconds(a: CpuSnapshot, b: CpuSnapshot): Record<string, number> {
  const tck = ticksPerSecond();
  const out: Record<string, number> = {};
  for (const [name, end] of b.byGroup) {
    const start = a.byGroup.get(name) ?? new Map<number, number>();
    let ticks = 0;
    for (const [pid, t] of end) ticks += t - (start.get(pid) ?? 0);
    out[name] = ticks / tck;
  }
  const h = process.cpuUsage(a.harness);
  out.harness = (h.user + h.system) / 1e6;
  const ours = Object.values(out).reduce((x, y) => x + y, 0);
  // Whatever else ran on the machine meanwhile (other people's tests on a shared machine).
  out.other_processes = Math.max(0, (b.machineTicks - a.machineTicks) / tck - ours);
  out.wall = (b.at - a.at) / 1000;
  return out;
}

/** Ticks all cores spent on anything but idle and I/O wait since boot. */
function machineBusyTicks(): number {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: busy = all but idle, I/O wait and steal
    // (time the hypervisor gave to other machines is not time other processes here used).
    const total = f.slice(0, 8).reduce((x, y) => x + y, 0);
    return total - (f[3] ?? 0) - (f[4] ?? 0) - (f[7] ?? 0);
  } catch {
    return NaN;
  }
}

/** VmRSS and VmHWM (peak) of a process in MB, or null when it is gone. */
export function memoryOf(pid: number): { rssMb: number; hwmMb: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)\\s+kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

/** Per thread of one process: CPU ticks so far, and when the thread started (ticks since boot). */
export type ThreadTicks = Map<number, { ticks: number; sys: number; started: number }>;

export function threadTicks(pid: number): ThreadTicks {
  const out: ThreadTicks = new Map();
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out; // exited
  }
  for (const tid of tids) {
    const s = readStat(Number(tid), `/proc/${pid}/task/${tid}/stat`);
    if (s) out.set(s.pid, { ticks: s.ticks, sys: s.sys, started: s.started });
  }
  return out;
}

/** Mailgrant's CPU seconds by thread (see `threadCpuSeconds`), each thread listed. */
export interface ThreadCpu {
  main: number;
  node_helpers: number;
  workers: number;
  /** Of all threads' seconds, those spent in the kernel (system calls: socket I/O, futexes). */
  system: number;
  each: { tid: number; started_after_s: number; seconds: number; system_seconds: number }[];
}

/** The three kinds of a Node process's threads, as `threadCpuSeconds` tells them apart. */
export type ThreadKind = 'main' | 'workers' | 'node_helpers';

/**
 * The main JavaScript thread (its id is the process's); the threads Node starts with the process
 * (V8's platform threads, which run garbage collection and compilation beside the main thread,
 * and libuv's); or a thread started later (a worker thread: Mailgrant's parse worker). Told apart
 * by start time: a thread started within 0.2 s of the process is one of Node's own.
 */
export function threadKind(pid: number, tid: number, startedAfterS: number): ThreadKind {
  return tid === pid ? 'main' : startedAfterS <= 0.2 ? 'node_helpers' : 'workers';
}

/** CPU seconds of one Node process's threads between two snapshots, by kind (`threadKind`). */
export function threadCpuSeconds(pid: number, a: ThreadTicks, b: ThreadTicks): ThreadCpu {
  const tck = ticksPerSecond();
  const processStart = b.get(pid)?.started ?? a.get(pid)?.started ?? 0;
  const out: ThreadCpu = { main: 0, node_helpers: 0, workers: 0, system: 0, each: [] };
  for (const [tid, t] of b) {
    const s = (t.ticks - (a.get(tid)?.ticks ?? 0)) / tck;
    const sys = (t.sys - (a.get(tid)?.sys ?? 0)) / tck;
    const after = (t.started - processStart) / tck;
    out.system += sys;
    out[threadKind(pid, tid, after)] += s;
    out.each.push({ tid, started_after_s: after, seconds: s, system_seconds: sys });
  }
  out.each.sort((x, y) => y.seconds - x.seconds);
  return out;
}
