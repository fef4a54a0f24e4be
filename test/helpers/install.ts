/**
 * System binaries for the integration tests: find them, install the Debian package when missing
 * (as root), and run servers as child processes that cannot outlive the test process.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import {
  accessSync,
  closeSync,
  constants as fsConstants,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

// ---------------------------------------------------------------------------------------------
// Finding binaries
// ---------------------------------------------------------------------------------------------

const EXTRA_BIN_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

function isExecutableFile(p: string): boolean {
  try {
    accessSync(p, fsConstants.X_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

const byVersionDescending = (a: string, b: string): number => b.localeCompare(a, 'en', { numeric: true });

/** Expands `*` in path segments (no other glob syntax); matches sorted highest version first. */
function expandGlob(pattern: string): string[] {
  const segments = pattern.split('/').filter((s) => s !== '');
  let bases = [pattern.startsWith('/') ? '/' : '.'];
  for (const segment of segments) {
    const next: string[] = [];
    if (!segment.includes('*')) {
      for (const base of bases) next.push(path.join(base, segment));
    } else {
      const re = new RegExp(`^${segment.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
      for (const base of bases) {
        let names: string[];
        try {
          names = readdirSync(base);
        } catch {
          continue;
        }
        for (const name of names.filter((n) => re.test(n)).sort(byVersionDescending)) next.push(path.join(base, name));
      }
    }
    bases = next;
  }
  return bases;
}

/**
 * Resolves a binary: an absolute path (may contain `*` segments, e.g.
 * `/usr/lib/postgresql/*\/bin/postgres`; the highest version wins) or a bare name looked up in
 * PATH plus the sbin directories. Returns undefined when not found.
 */
export function findBinary(binaryPathOrName: string): string | undefined {
  if (binaryPathOrName.includes('/')) {
    return expandGlob(binaryPathOrName).find(isExecutableFile);
  }
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...EXTRA_BIN_DIRS];
  for (const dir of dirs) {
    const candidate = path.join(dir, binaryPathOrName);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Installing Debian packages
// ---------------------------------------------------------------------------------------------

const LOCK_PATH = path.join(os.tmpdir(), 'mailgrant-test-apt.lock');
const LOCK_TIMEOUT_MS = 20 * 60_000;
const inProcessInstalls = new Map<string, Promise<string>>();
let aptUpdated = false;

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Cross-process lock: a file created with O_EXCL holding the owner's pid; stale locks are broken. */
async function withInstallLock<T>(fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + LOCK_TIMEOUT_MS;
  for (;;) {
    try {
      const fd = openSync(LOCK_PATH, 'wx', 0o644);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let ownerPid = NaN;
      try {
        ownerPid = Number(readFileSync(LOCK_PATH, 'utf8').trim());
      } catch {
        continue; // released between open and read
      }
      // An empty file means the owner is between open and write (or died right there).
      let stale = Number.isInteger(ownerPid) && ownerPid > 0 && !isAlive(ownerPid);
      if (!(ownerPid > 0)) {
        try {
          stale = Date.now() - statSync(LOCK_PATH).mtimeMs > 10_000;
        } catch {
          continue;
        }
      }
      if (stale) {
        try {
          unlinkSync(LOCK_PATH);
        } catch {
          // someone else broke it first
        }
        continue;
      }
      if (Date.now() > deadline) {
        throw new Error(`Timed out after ${LOCK_TIMEOUT_MS / 60_000} min waiting for the package-install lock ${LOCK_PATH} (held by pid ${ownerPid})`);
      }
      // No event exists for "another process released a lock file": poll.
      await delay(250);
    }
  }
  try {
    return await fn();
  } finally {
    try {
      unlinkSync(LOCK_PATH);
    } catch {
      // already gone
    }
  }
}

function tail(text: string, lines = 30): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

async function aptInstall(debPackage: string): Promise<void> {
  const aptGet = findBinary('apt-get');
  if (!aptGet) throw new Error(`Cannot install Debian package ${debPackage}: apt-get not found (not a Debian system?)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive', LC_ALL: 'C' };
  // Wait for another apt/dpkg run (e.g. unattended-upgrades) instead of failing on its lock.
  const lockWait = ['-o', 'DPkg::Lock::Timeout=600'];
  if (!aptUpdated) {
    await runToCompletion(aptGet, [...lockWait, 'update'], { env, timeoutMs: 15 * 60_000 });
    aptUpdated = true;
  }
  await runToCompletion(aptGet, [...lockWait, 'install', '-y', '--no-install-recommends', debPackage], { env, timeoutMs: 15 * 60_000 });
}

/**
 * Returns the absolute path of `binaryPathOrName` (see findBinary), installing Debian package
 * `debPackage` first when it is missing and we run as root (`apt-get update` once per process,
 * then `apt-get install -y`). Installs are serialized across processes with a lock file. When
 * not root, throws a one-line Error saying what to install. Never skips silently.
 */
export async function ensureDebianPackage(binaryPathOrName: string, debPackage: string): Promise<string> {
  const found = findBinary(binaryPathOrName);
  if (found) return found;
  const key = `${binaryPathOrName}\0${debPackage}`;
  let pending = inProcessInstalls.get(key);
  if (!pending) {
    pending = installFor(binaryPathOrName, debPackage);
    inProcessInstalls.set(key, pending);
    pending.catch(() => inProcessInstalls.delete(key));
  }
  return pending;
}

/**
 * Like ensureDebianPackage, for a data file rather than a program (a font, say): resolves with
 * `file` once it exists, installing `debPackage` first when it is missing and we run as root.
 */
export async function ensureDebianFile(file: string, debPackage: string): Promise<string> {
  if (existsSync(file)) return file;
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    throw new Error(`${file} not found: install the Debian package "${debPackage}" (sudo apt-get install -y ${debPackage}) or run the tests as root to have it installed automatically`);
  }
  return withInstallLock(async () => {
    if (!existsSync(file)) await aptInstall(debPackage);
    if (!existsSync(file)) throw new Error(`Installed Debian package ${debPackage} but ${file} is still not found`);
    return file;
  });
}

async function installFor(binaryPathOrName: string, debPackage: string): Promise<string> {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    throw new Error(
      `${binaryPathOrName} not found: install the Debian package "${debPackage}" (sudo apt-get install -y ${debPackage}) or run the tests as root to have it installed automatically`,
    );
  }
  return withInstallLock(async () => {
    // Another process may have installed it while we waited for the lock.
    const already = findBinary(binaryPathOrName);
    if (already) return already;
    await aptInstall(debPackage);
    const installed = findBinary(binaryPathOrName);
    if (!installed) throw new Error(`Installed Debian package ${debPackage} but ${binaryPathOrName} is still not found`);
    return installed;
  });
}

// ---------------------------------------------------------------------------------------------
// OS users
// ---------------------------------------------------------------------------------------------

export interface OsUser {
  name: string;
  uid: number;
  gid: number;
}

/** Looks up an OS user (getent, so NSS sources count); undefined when it does not exist. */
export function lookupOsUser(name: string): OsUser | undefined {
  let line: string | undefined;
  try {
    line = execFileSync('getent', ['passwd', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0];
  } catch {
    try {
      line = readFileSync('/etc/passwd', 'utf8')
        .split('\n')
        .find((l) => l.startsWith(`${name}:`));
    } catch {
      line = undefined;
    }
  }
  const fields = line?.split(':');
  if (!fields || fields.length < 4 || fields[0] !== name) return undefined;
  return { name, uid: Number(fields[2]), gid: Number(fields[3]) };
}

/** The user this process runs as. */
export function currentOsUser(): OsUser {
  const info = os.userInfo();
  return { name: info.username, uid: info.uid, gid: info.gid };
}

export const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

// ---------------------------------------------------------------------------------------------
// Temporary directories
// ---------------------------------------------------------------------------------------------

const OWNER_FILE = '.mailgrant-owner';

/**
 * mkdtemp under os.tmpdir() with `prefix`, recording this process as its owner. Also removes
 * directories with the same prefix left behind by test processes that died (their servers
 * stopped when the process died; see spawnServer), unless one of `pidFiles` (relative paths)
 * in them names a live process.
 */
export function createServerTempDir(prefix: string, pidFiles: string[] = []): string {
  sweepStaleTempDirs(prefix, pidFiles);
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  const fd = openSync(path.join(dir, OWNER_FILE), 'w', 0o644);
  writeSync(fd, String(process.pid));
  closeSync(fd);
  return dir;
}

function sweepStaleTempDirs(prefix: string, pidFiles: string[]): void {
  let names: string[];
  try {
    names = readdirSync(os.tmpdir()).filter((n) => n.startsWith(prefix));
  } catch {
    return;
  }
  for (const name of names) {
    const dir = path.join(os.tmpdir(), name);
    try {
      const owner = Number(readFileSync(path.join(dir, OWNER_FILE), 'utf8').trim());
      if (isAlive(owner)) continue;
      if (Date.now() - statSync(path.join(dir, OWNER_FILE)).mtimeMs < 30_000) continue;
      const serverAlive = pidFiles.some((rel) => {
        try {
          return isAlive(Number(readFileSync(path.join(dir, rel), 'utf8').split('\n')[0]?.trim()));
        } catch {
          return false;
        }
      });
      if (serverAlive) continue;
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // not ours, or vanished meanwhile
    }
  }
}

/** `chown -R` so a server running as `user` owns `dir` (needs root). */
export function chownTree(dir: string, user: OsUser): void {
  execFileSync('chown', ['-R', `${user.uid}:${user.gid}`, dir]);
}

// ---------------------------------------------------------------------------------------------
// Server processes
// ---------------------------------------------------------------------------------------------

/*
 * Every server runs under a small sh wrapper whose stdin is a pipe from this process. When the
 * pipe reaches EOF - because stop() closed it, or because this process exited or was killed,
 * even with SIGKILL - the wrapper sends the server its stop signal and waits for it. So no
 * server outlives the test process, without relying on exit handlers. The wrapper is spawned
 * detached (its own process group); when it exits, whatever is left of the group is killed.
 *
 * Background jobs of a non-interactive sh get stdin from /dev/null, hence the copy to fd 3.
 */
const WRAPPER_SCRIPT = [
  'exec 3<&0',
  '"$@" </dev/null 3<&- &',
  'server=$!',
  '( while IFS= read -r _line; do :; done; kill -s "$MAILGRANT_STOP_SIGNAL" "$server" 2>/dev/null ) <&3 3<&- >/dev/null 2>&1 &',
  'watcher=$!',
  'exec 3<&-',
  'wait "$server"',
  'status=$?',
  'kill "$watcher" 2>/dev/null',
  'exit "$status"',
].join('\n');

export interface SpawnServerOptions {
  /** Used in error messages, e.g. "postgres". */
  name: string;
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Run as this OS user (needs root). */
  user?: OsUser;
  /** Signal that stops the server cleanly: SIGINT for PostgreSQL (fast shutdown), SIGTERM for Dovecot. */
  stopSignal: 'SIGINT' | 'SIGTERM' | 'SIGQUIT';
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const liveServers = new Set<ServerProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Closing the pipes happens anyway when the process dies; doing it explicitly on a normal exit
  // makes the intent visible and starts the shutdown a little earlier.
  process.on('exit', () => {
    for (const server of liveServers) server.closeControlPipe();
  });
}

export class ServerProcess {
  readonly name: string;
  /** pid of the wrapper (process group leader; the server is its child). */
  readonly pid: number;
  /** Resolves when the wrapper (and so the server) has exited. Never rejects. */
  readonly exited: Promise<ProcessExit>;
  /** Aborted when the process exits - pass to waitForPort() to fail fast. */
  readonly exitSignal: AbortSignal;
  private readonly child: ChildProcess;
  private outputText = '';
  private exitInfo: ProcessExit | undefined;
  private readonly outputListeners = new Set<(chunk: string) => void>();

  constructor(opts: SpawnServerOptions) {
    this.name = opts.name;
    const abort = new AbortController();
    this.exitSignal = abort.signal;
    this.child = spawn('/bin/sh', ['-c', WRAPPER_SCRIPT, `mailgrant-${opts.name}`, opts.command, ...opts.args], {
      cwd: opts.cwd,
      env: { ...(opts.env ?? process.env), MAILGRANT_STOP_SIGNAL: opts.stopSignal.replace(/^SIG/, '') },
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
      ...(opts.user ? { uid: opts.user.uid, gid: opts.user.gid } : {}),
    });
    if (this.child.pid === undefined) {
      // spawn failures are reported asynchronously via 'error'; /bin/sh missing is the only case
      throw new Error(`Could not start ${opts.name}: /bin/sh failed to spawn`);
    }
    this.pid = this.child.pid;
    const onData = (chunk: Buffer): void => {
      const text = chunk.toString('utf8');
      this.outputText = (this.outputText + text).slice(-256_000);
      for (const listener of this.outputListeners) listener(text);
    };
    this.child.stdout?.on('data', onData);
    this.child.stderr?.on('data', onData);
    this.child.stdin?.on('error', () => {
      // EPIPE when the wrapper already died - nothing to do
    });
    this.exited = new Promise<ProcessExit>((resolve) => {
      this.child.once('error', (err) => {
        onData(Buffer.from(`\n[spawn error] ${err.message}\n`));
      });
      // The wrapper exits once the server's main process has. Children that outlive it (Dovecot's
      // imap processes keep a client for up to 10 s after the master stopped) would keep client
      // connections and our stdio pipes open: kill what is left of the process group.
      this.child.once('exit', () => {
        try {
          process.kill(-this.pid, 'SIGKILL');
        } catch {
          // nothing left
        }
      });
      this.child.once('close', (code, signal) => {
        this.exitInfo = { code, signal };
        liveServers.delete(this);
        abort.abort(new Error(`${this.name} exited (${describeExit(this.exitInfo)})`));
        resolve(this.exitInfo);
      });
    });
    liveServers.add(this);
    installExitHook();
  }

  get hasExited(): boolean {
    return this.exitInfo !== undefined;
  }

  /** Everything the process wrote to stdout/stderr (last 256 kB). */
  output(): string {
    return this.outputText;
  }

  tail(lines = 40): string {
    return tail(this.outputText, lines) || '(no output)';
  }

  /**
   * Resolves when output written from now on (or already written, when `includePast`) matches
   * `pattern`. Rejects when the process exits first or after `timeoutMs`.
   */
  waitForOutput(pattern: RegExp, timeoutMs: number, includePast = true): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let seen = includePast ? this.outputText : '';
      if (pattern.test(seen)) return resolve();
      const exitedError = (): Error => new Error(`${(this.exitSignal.reason as Error).message} - output:\n${this.tail()}`);
      if (this.exitInfo) return reject(exitedError());
      const cleanup = (): void => {
        clearTimeout(timer);
        this.outputListeners.delete(listener);
        this.exitSignal.removeEventListener('abort', onExit);
      };
      const listener = (chunk: string): void => {
        seen = (seen + chunk).slice(-64_000);
        if (pattern.test(seen)) {
          cleanup();
          resolve();
        }
      };
      const onExit = (): void => {
        cleanup();
        reject(exitedError());
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${this.name} did not log ${pattern} within ${timeoutMs} ms - output:\n${this.tail()}`));
      }, timeoutMs);
      this.outputListeners.add(listener);
      this.exitSignal.addEventListener('abort', onExit, { once: true });
    });
  }

  /** Internal: EOF on the control pipe makes the wrapper stop the server. */
  closeControlPipe(): void {
    if (this.child.stdin && !this.child.stdin.destroyed) this.child.stdin.end();
  }

  /**
   * Stops the server with its stop signal and waits for it to exit; after `timeoutMs` kills the
   * whole process group with SIGKILL. Idempotent.
   */
  async stop(timeoutMs = 15_000): Promise<ProcessExit> {
    if (this.exitInfo) return this.exitInfo;
    this.closeControlPipe();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const result = await Promise.race([this.exited, timedOut]);
    clearTimeout(timer);
    if (result !== 'timeout') return result;
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    return this.exited;
  }

  /** SIGKILLs the whole process group (server and all its children) and waits for the exit. */
  async kill(): Promise<ProcessExit> {
    if (this.exitInfo) return this.exitInfo;
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    return this.exited;
  }
}

export function describeExit(exit: ProcessExit): string {
  return exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`;
}

/** Starts a server process under the stop-on-EOF wrapper (see WRAPPER_SCRIPT). */
export function spawnServer(opts: SpawnServerOptions): ServerProcess {
  return new ServerProcess(opts);
}

/** Runs a short-lived command to completion (optionally as another user); rejects with its output. */
export function runToCompletion(
  command: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; user?: OsUser; timeoutMs?: number } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(opts.user ? { uid: opts.user.uid, gid: opts.user.gid } : {}),
    });
    let output = '';
    const collect = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-64_000);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`${command} could not start: ${err.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else reject(new Error(`${command} ${args.join(' ')} failed (${describeExit({ code, signal })}):\n${tail(output)}`));
    });
  });
}

export { tail as tailText };
