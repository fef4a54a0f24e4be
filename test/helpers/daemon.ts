/**
 * The daemon as a child process (`mailgrant start` through tsx), for the tests where a process
 * must really die: SIGKILL at a crash point, SIGTERM and a second signal, several instances on
 * one database with the mailbox reader killed. Its log lines (pino JSON on stdout) are kept, so
 * a test waits on them instead of sleeping, and a failing test shows them.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { EXAMPLE_RULES_YAML } from '../../src/config/example-rules.js';
import type { DovecotServer } from './dovecot.js';
import { waitUntil } from './wait.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const GUARD = pathToFileURL(fileURLToPath(new URL('./daemon-guard.mjs', import.meta.url))).href;

/** Variables of the daemon that a test never inherits from the environment it runs in. */
const OWN_VARIABLES = /^(DATA_DIR|DATABASE_URL|RULES_FILE|TEMPLATES_DIR|IMAP_.*|SMTP_.*|HTTP_PORT|MAX_MESSAGE_BYTES|RETENTION_SCHEDULE|LOG_LEVEL|MAILGRANT_.*)$/;

export interface DaemonExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Date.now() when the process exited. */
  at: number;
}

/** One pino line of the daemon, parsed (`raw` keeps the text; non-JSON lines have only `raw`). */
export interface LogEntry {
  raw: string;
  msg?: string;
  level?: number;
  time?: number;
  [field: string]: unknown;
}

export type LinePattern = RegExp | ((entry: LogEntry) => boolean);

export interface Daemon {
  readonly name: string;
  readonly pid: number;
  /** Every line of stdout and stderr so far, in order. */
  readonly entries: LogEntry[];
  /** The exit, once the process has exited and its output is read to the end. */
  readonly exited: Promise<DaemonExit>;
  readonly exit: DaemonExit | null;
  /**
   * Resolves with the first line matching `pattern` at index `from` or later (default: any line
   * so far). Rejects after `timeoutMs`, or at once when the process exits without printing it.
   */
  waitForLine(pattern: LinePattern, timeoutMs: number, opts?: { from?: number }): Promise<LogEntry>;
  /** Lines matching `pattern`. */
  lines(pattern: LinePattern): LogEntry[];
  kill(signal: NodeJS.Signals): void;
  /** SIGTERM, then the exit (SIGKILL after `timeoutMs`). */
  stop(timeoutMs?: number): Promise<DaemonExit>;
  /** The last lines, for assertion messages. */
  tail(n?: number): string;
}

const running = new Set<Daemon>();

const matches = (pattern: LinePattern, e: LogEntry): boolean => (typeof pattern === 'function' ? pattern(e) : pattern.test(e.raw));

function parse(raw: string): LogEntry {
  if (raw.startsWith('{')) {
    try {
      return { ...(JSON.parse(raw) as Record<string, unknown>), raw };
    } catch {
      // not JSON after all
    }
  }
  return { raw };
}

/**
 * Starts `mailgrant start` with exactly `env` (plus PATH and HOME). Debug logs are on unless
 * `env.LOG_LEVEL` says otherwise.
 */
export function startDaemon(name: string, env: Record<string, string>): Daemon {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !OWN_VARIABLES.test(k))) as Record<string, string>;
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, ['--import', 'tsx', '--import', GUARD, 'src/cli/index.ts', 'start'], {
    cwd: REPO_ROOT,
    env: { ...inherited, LOG_LEVEL: 'debug', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const entries: LogEntry[] = [];
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const w of [...waiters]) w();
  };
  const reader = (stream: NodeJS.ReadableStream) => {
    let buffered = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buffered += chunk;
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const line of parts) if (line.trim()) entries.push(parse(line));
      notify();
    });
    stream.on('end', () => {
      if (buffered.trim()) entries.push(parse(buffered));
      buffered = '';
      notify();
    });
  };
  reader(child.stdout);
  reader(child.stderr);
  // EPIPE when the daemon is gone; nothing is ever written to its stdin.
  child.stdin.on('error', () => {});
  child.on('error', (err) => entries.push({ raw: `spawn error: ${err.message}` }));

  let exitInfo: DaemonExit | null = null;
  let exitAt = 0;
  child.once('exit', () => {
    exitAt = Date.now();
  });
  const exited = new Promise<DaemonExit>((resolve) => {
    child.once('close', (code, signal) => {
      exitInfo = { code, signal, at: exitAt || Date.now() };
      running.delete(daemon);
      notify();
      resolve(exitInfo);
    });
  });

  const tail = (n = 40) => entries.slice(-n).map((e) => e.raw).join('\n');

  const daemon: Daemon = {
    name,
    pid: child.pid ?? -1,
    entries,
    exited,
    get exit() {
      return exitInfo;
    },
    waitForLine(pattern, timeoutMs, opts = {}) {
      const from = opts.from ?? 0;
      return new Promise((resolve, reject) => {
        const check = () => {
          for (let i = from; i < entries.length; i++) {
            if (matches(pattern, entries[i]!)) {
              done();
              resolve(entries[i]!);
              return;
            }
          }
          if (exitInfo) {
            done();
            reject(new Error(`daemon ${name} exited (${exitInfo.signal ?? `code ${exitInfo.code}`}) without printing ${String(pattern)}; last lines:\n${tail()}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`daemon ${name}: no line matching ${String(pattern)} within ${timeoutMs} ms; last lines:\n${tail()}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    lines(pattern) {
      return entries.filter((e) => matches(pattern, e));
    },
    kill(signal) {
      if (!exitInfo) child.kill(signal);
    },
    async stop(timeoutMs = 15_000) {
      if (exitInfo) return exitInfo;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
    tail,
  };
  running.add(daemon);
  return daemon;
}

/** SIGKILLs every daemon still running and waits for them (afterAll). */
export async function killAllDaemons(): Promise<void> {
  const all = [...running];
  for (const d of all) d.kill('SIGKILL');
  await Promise.all(all.map((d) => d.exited));
}

// A test process that ends normally takes its daemons with it (the guard covers a killed one).
process.once('exit', () => {
  for (const d of running) d.kill('SIGKILL');
});

/** Resolves with the exit, or rejects after `timeoutMs` with the daemon's last lines. */
export function exitWithin(d: Daemon, timeoutMs: number): Promise<DaemonExit> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    d.exited,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`daemon ${d.name} did not exit within ${timeoutMs} ms; last lines:\n${d.tail()}`)), timeoutMs);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** A temporary DATA_DIR with a rules file in it (the example organisation, optionally patched). */
export function daemonFiles(rulesYaml: string = EXAMPLE_RULES_YAML): { dataDir: string; rulesFile: string; cleanup(): void } {
  const dataDir = mkdtempSync(join(tmpdir(), 'mg-daemon-'));
  const rulesFile = join(dataDir, 'rules.yaml');
  writeFileSync(rulesFile, rulesYaml);
  return { dataDir, rulesFile, cleanup: () => rmSync(dataDir, { recursive: true, force: true }) };
}

/**
 * The example organisation with `count` more directory users (user01@contoso.example …) and
 * seats to spare, so a test can have that many pending requests at once (one pending request
 * per person and product).
 */
export function rulesWithUsers(count: number): string {
  const users = Array.from({ length: count }, (_, i) => {
    const n = String(i + 1).padStart(2, '0');
    return `    - { email: user${n}@contoso.example, name: User ${n} }`;
  });
  return EXAMPLE_RULES_YAML.replace(/^  users:\n/m, `  users:\n${users.join('\n')}\n`).replace(/seats: 10\n/, 'seats: 1000\n');
}

export const userAddress = (i: number) => `user${String(i + 1).padStart(2, '0')}@contoso.example`;

/** Messages in `mailbox` of `user`, by IMAP STATUS. */
export async function mailboxCount(dovecot: DovecotServer, user: string, mailbox = 'INBOX'): Promise<number> {
  const c = await dovecot.client(user);
  try {
    const status = await c.status(mailbox, { messages: true });
    return status === false ? -1 : (status.messages ?? -1);
  } finally {
    await c.logout().catch(() => c.close());
  }
}

/** Waits until INBOX is empty: handled messages are moved only after their commit, and there is no event for that. */
export async function waitForEmptyInbox(dovecot: DovecotServer, user: string, timeoutMs = 60_000): Promise<void> {
  await waitUntil(async () => (await mailboxCount(dovecot, user)) === 0, { timeoutMs, intervalMs: 250, description: `${user}'s INBOX to be empty` });
}
