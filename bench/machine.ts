/** The machine a run measured, and housekeeping of the per-run folders. */
import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findBinary } from '../test/helpers/install.js';
import { round } from './util.js';

export function machine() {
  const cpus = os.cpus();
  const version = (cmd: string, a: string[]) => {
    try {
      return execFileSync(cmd, a, { encoding: 'utf8' }).trim();
    } catch {
      return 'unknown';
    }
  };
  return {
    cores: cpus.length,
    cpu_model: cpus[0]?.model ?? 'unknown',
    memory_gb: round(os.totalmem() / 1024 ** 3, 1),
    load_average_at_start: os.loadavg().map((l) => round(l, 2)),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    dovecot: version('dovecot', ['--version']),
    postgres: version(findBinary('/usr/lib/postgresql/*/bin/postgres') ?? 'postgres', ['--version']),
  };
}

/** Keeps the newest `keep` run folders in `dir` (their names start with the run's start time). */
export function pruneRuns(dir: string, keep: number): void {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return;
  }
  for (const n of names.slice(0, Math.max(0, names.length - keep))) rmSync(path.join(dir, n), { recursive: true, force: true });
}
