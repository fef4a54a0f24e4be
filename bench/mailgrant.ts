/**
 * Mailgrant as a child process (`mailgrant start`), so its memory is its own and a CPU profile
 * of it holds nothing of the harness. It runs under the test helpers' wrapper, which stops it
 * (SIGTERM) when the harness exits for any reason, even SIGKILL.
 */
import { closeSync, existsSync, openSync, readFileSync, readSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnServer, type ServerProcess } from '../test/helpers/install.js';
import { childOf, memoryOf } from './proc.js';
import { delay, log } from './util.js';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

export type Runner = 'dist' | 'tsx';

export interface MailgrantProcess {
  /** pid of the node process itself (not the wrapper). */
  pid: number;
  /** Resolves once the log shows `pattern`; rejects after `ms` saying what it waited for. */
  waitForLog(pattern: RegExp, ms: number, what: string): Promise<void>;
  memory(): { rssMb: number; hwmMb: number } | null;
  /** Log lines at level error or above, from the last 256 kB of output. */
  errorLines(): string[];
  tail(lines?: number): string;
  /** SIGTERM and wait (Mailgrant drains its outbox briefly); SIGKILL after the bound. Idempotent. */
  stop(): Promise<void>;
}

const MAILGRANT_KEYS = ['DATA_DIR', 'DATABASE_URL', 'RULES_FILE', 'TEMPLATES_DIR', 'IMAP_URL', 'IMAP_PROCESSED_MAILBOX', 'IMAP_QUARANTINE_MAILBOX', 'IMAP_POLL_SECONDS', 'SMTP_INTAKE', 'SMTP_URL', 'SMTP_MAX_CONNECTIONS', 'MAX_MESSAGE_BYTES', 'RETENTION_SCHEDULE', 'LOG_LEVEL', 'HTTP_PORT'];

/** True when dist/ was compiled after the last change to any file in src/. */
export function distIsFresh(): boolean {
  const entry = path.join(REPO_ROOT, 'dist/cli/index.js');
  if (!existsSync(entry)) return false;
  const built = statSync(entry).mtimeMs;
  const src = path.join(REPO_ROOT, 'src');
  return readdirSync(src, { recursive: true, encoding: 'utf8' }).every((f) => statSync(path.join(src, f)).mtimeMs <= built);
}

/**
 * The node flags of `npm start` (package.json), so that the benchmark runs the daemon as users
 * do (the same V8 settings), whichever runner it uses.
 */
export function startFlags(): string[] {
  const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const m = /^node((?: --[^\s]+)*) dist\/cli\/index\.js start$/.exec(pkg.scripts.start ?? '');
  if (!m) throw new Error(`package.json's start script is not "node [--flags] dist/cli/index.js start": ${pkg.scripts.start}`);
  return m[1]!.split(' ').filter(Boolean);
}

export function commandFor(runner: Runner, cpuProfileDir: string | null, extraFlags: readonly string[] = []): string[] {
  const prof = [...startFlags(), ...(cpuProfileDir ? ['--cpu-prof', '--cpu-prof-dir', cpuProfileDir] : []), ...extraFlags];
  prof.push(...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean));
  if (runner === 'dist') {
    const entry = path.join(REPO_ROOT, 'dist/cli/index.js');
    if (!existsSync(entry)) throw new Error(`${entry} is missing: run "npm run build" (or use --runner tsx)`);
    return [...prof, entry, 'start'];
  }
  return [...prof, '--import', 'tsx', path.join(REPO_ROOT, 'src/cli/index.ts'), 'start'];
}

function readTail(file: string, bytes: number): string {
  try {
    const size = statSync(file).size;
    const fd = openSync(file, 'r');
    try {
      const buf = Buffer.alloc(Math.min(size, bytes));
      readSync(fd, buf, 0, buf.length, size - buf.length);
      return buf.toString('utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    return '';
  }
}

/**
 * Starts `mailgrant start` with its log going to `logFile`, as a daemon's log goes to a file or
 * the journal: through a pipe read by this process, Mailgrant's synchronous log writes would
 * wait on the harness whenever the harness is slow to read, and that is not Mailgrant's cost.
 */
export async function startMailgrant(o: {
  runner: Runner;
  env: Record<string, string>;
  logFile: string;
  cpuProfileDir?: string | null;
  /** More node flags (e.g. perf.ts's), after npm start's. */
  nodeFlags?: readonly string[];
  /** Working directory (default: the repository), where node writes files such as a jitdump; the bench's settings are absolute paths. */
  cwd?: string;
}): Promise<MailgrantProcess> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of MAILGRANT_KEYS) delete env[k];
  Object.assign(env, o.env, { MAILGRANT_BENCH_LOG: o.logFile });
  const args = commandFor(o.runner, o.cpuProfileDir ?? null, o.nodeFlags);
  // The inner sh execs node, so the pid the wrapper signals is node's own.
  const server: ServerProcess = spawnServer({
    name: 'mailgrant', command: '/bin/sh', args: ['-c', 'exec "$@" >>"$MAILGRANT_BENCH_LOG" 2>&1', 'sh', process.execPath, ...args],
    cwd: o.cwd ?? REPO_ROOT, env, stopSignal: 'SIGTERM',
  });
  const readLog = () => {
    try {
      return readFileSync(o.logFile, 'utf8');
    } catch {
      return ''; // not created yet
    }
  };
  const tail = (n = 30) => {
    const lines = `${readTail(o.logFile, 256_000)}${server.output()}`.trimEnd().split('\n');
    return lines.slice(-n).join('\n') || '(no output)';
  };
  let pid: number | null = null;
  for (let i = 0; i < 100 && pid === null && !server.hasExited; i++) {
    pid = childOf(server.pid, 'node');
    if (pid === null) await delay(20);
  }
  if (pid === null) {
    await server.stop();
    throw new Error(`Mailgrant did not start (${process.execPath} ${args.join(' ')}):\n${tail()}`);
  }
  const nodePid = pid;
  let stopped: Promise<void> | undefined;
  return {
    pid: nodePid,
    async waitForLog(pattern, ms, what) {
      const deadline = Date.now() + ms;
      // A file has no "line written" event: poll it, bounded, and give up at once if the process died.
      for (;;) {
        if (pattern.test(readLog())) return;
        if (server.hasExited) throw new Error(`Mailgrant exited while the benchmark was waiting for ${what}:\n${tail()}`);
        if (Date.now() > deadline) throw new Error(`Mailgrant: timed out after ${ms / 1000} s waiting for ${what}\n--- Mailgrant output ---\n${tail()}`);
        await delay(25);
      }
    },
    memory: () => memoryOf(nodePid),
    errorLines: () => readLog().split('\n').filter((l) => /"level":(50|60)/.test(l)),
    tail,
    stop() {
      stopped ??= (async () => {
        const exit = await server.stop(20_000);
        if (exit.code !== 0) log(`Mailgrant exited with ${exit.signal ?? `code ${exit.code}`}`);
      })();
      return stopped;
    },
  };
}
