import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireDataDirLock, DatabaseInUseError, LOCK_FILE } from '../../src/db/data-dir-lock.js';

/** One process per PGlite folder: a second is refused with a clear error; a dead holder's lock is taken over. */
describe('data folder lock', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a second holder while the first lives, naming it, and frees the folder on release', () => {
    dir = mkdtempSync(join(tmpdir(), 'mg-lock-'));
    const lock = acquireDataDirLock(dir, 'mailgrant start');
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'))).toMatchObject({ pid: process.pid, purpose: 'mailgrant start' });
    // Not even this process opens the folder twice.
    expect(() => acquireDataDirLock(dir, 'mailgrant start')).toThrow(DatabaseInUseError);
    // Another process's lock (our parent's pid stands in for a live Mailgrant).
    lock.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: process.ppid, purpose: 'mailgrant start', since: '2026-11-20T10:00:00.000Z' }));
    let err: unknown;
    try {
      acquireDataDirLock(dir, 'mailgrant decide');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DatabaseInUseError);
    expect((err as Error).message).toBe(
      `The embedded database in ${join(dir, 'db')} is in use by another Mailgrant process (pid ${process.ppid}, mailgrant start, since 2026-11-20T10:00:00.000Z); PGlite allows one process at a time. Wait for it to finish, or stop it.`,
    );
  });

  it('takes over a lock whose process is gone', () => {
    dir = mkdtempSync(join(tmpdir(), 'mg-lock-'));
    // A pid that surely exited: a child we ran to completion.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: Number(dead), purpose: 'mailgrant start', since: '' }));
    const lock = acquireDataDirLock(dir, 'mailgrant licenses');
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid).toBe(process.pid);
    lock.release();
  });
});
