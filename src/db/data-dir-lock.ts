import { closeSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { MailgrantError } from '../shared/errors.js';

/**
 * PGlite is one process's database: two processes writing the same folder corrupt it. Whoever
 * opens $DATA_DIR/db takes $DATA_DIR/db.lock first, created with O_EXCL and holding the pid; a
 * lock whose pid is gone is stale (a crash, kill -9) and is taken over.
 *
 * The daemon also writes $DATA_DIR/db.socket-info while it serves the database to the CLI
 * (pglite-server.ts), so a CLI command that finds the lock held knows where to connect instead.
 */
export const LOCK_FILE = 'db.lock';
export const SOCKET_INFO_FILE = 'db.socket-info';

export interface LockHolder {
  pid: number;
  purpose: string;
  since: string;
}

export interface DataDirLock {
  readonly path: string;
  release(): void;
}

export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else — alive all the same.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function readLockHolder(dataDir: string): LockHolder | null {
  try {
    const parsed = JSON.parse(readFileSync(join(dataDir, LOCK_FILE), 'utf8')) as Partial<LockHolder>;
    if (typeof parsed.pid !== 'number') return null;
    return { pid: parsed.pid, purpose: String(parsed.purpose ?? 'unknown'), since: String(parsed.since ?? '') };
  } catch {
    return null;
  }
}

export class DatabaseInUseError extends MailgrantError {
  readonly holder: LockHolder;
  constructor(dataDir: string, holder: LockHolder) {
    super(
      'db_unavailable',
      `The embedded database in ${join(dataDir, 'db')} is in use by another Mailgrant process (pid ${holder.pid}, ${holder.purpose}${holder.since ? `, since ${holder.since}` : ''}); ` +
        'PGlite allows one process at a time. Wait for it to finish, or stop it.',
      { details: { holder } },
    );
    this.holder = holder;
  }
}

export function acquireDataDirLock(dataDir: string, purpose: string): DataDirLock {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      try {
        writeSync(fd, JSON.stringify({ pid: process.pid, purpose, since: new Date().toISOString() } satisfies LockHolder));
      } finally {
        closeSync(fd);
      }
      let released = false;
      return {
        path,
        release() {
          if (released) return;
          released = true;
          // Only our own lock: after a takeover (we were thought dead) it belongs to another.
          if (readLockHolder(dataDir)?.pid === process.pid) {
            try {
              unlinkSync(path);
            } catch {
              // already gone
            }
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new MailgrantError('db_unavailable', `Cannot create the lock file ${path}: ${(err as Error).message}`, { cause: err });
      }
    }
    const holder = readLockHolder(dataDir);
    // Our own pid too: PGlite opened twice in one process corrupts the folder just the same.
    if (holder && (holder.pid === process.pid || isProcessAlive(holder.pid))) throw new DatabaseInUseError(dataDir, holder);
    if (!holder) {
      // Unreadable: perhaps written this very moment by a process that just created it.
      let age = Infinity;
      try {
        age = Date.now() - statSync(path).mtimeMs;
      } catch {
        continue;
      }
      if (age < 2_000) throw new DatabaseInUseError(dataDir, { pid: 0, purpose: 'starting', since: '' });
    }
    // Stale: its process is gone. Remove it and try again (O_EXCL decides if two race for it).
    try {
      unlinkSync(path);
    } catch {
      // someone else removed it first
    }
  }
  throw new MailgrantError('db_unavailable', `Cannot take the lock ${path}: it keeps changing hands.`);
}

export interface SocketInfo {
  pid: number;
  path?: string;
  host?: string;
  port?: number;
}

export function writeSocketInfo(dataDir: string, info: SocketInfo): void {
  const path = join(dataDir, SOCKET_INFO_FILE);
  writeFileSync(`${path}.tmp`, JSON.stringify(info), { mode: 0o600 });
  // Renamed into place so a reader never sees half a file.
  renameSync(`${path}.tmp`, path);
}

export function readSocketInfo(dataDir: string): SocketInfo | null {
  try {
    const info = JSON.parse(readFileSync(join(dataDir, SOCKET_INFO_FILE), 'utf8')) as SocketInfo;
    return typeof info.pid === 'number' && (info.path || info.port) ? info : null;
  } catch {
    return null;
  }
}

export function removeSocketInfo(dataDir: string): void {
  try {
    if (readSocketInfo(dataDir)?.pid === process.pid) unlinkSync(join(dataDir, SOCKET_INFO_FILE));
  } catch {
    // already gone
  }
}
