import { join } from 'node:path';
import type { App } from '../app.js';
import type { Env } from '../config/env.js';
import { createRulesWatcher, type ReloadInfo } from '../config/rules-watcher.js';
import { removeSocketInfo, writeSocketInfo } from '../db/data-dir-lock.js';
import { createPgliteServer, type PgliteServer, type ServerAddress } from '../db/pglite-server.js';
import type { Logger } from '../shared/logger.js';

/**
 * What only the daemon does besides the app itself: serve the embedded database to CLI commands,
 * reload the rules (file change, SIGHUP) with an audit entry each time, and let a CLI command
 * wake the dispatcher (SIGUSR2) after it queued mail.
 */
export interface DaemonServices {
  stop(): Promise<void>;
}

/** A unix socket in the data folder, unless its path is too long for one (sun_path is ~108 bytes). */
export function daemonSocketAddress(dataDir: string): ServerAddress {
  const path = join(dataDir, 'db.sock');
  return Buffer.byteLength(path) <= 100 ? { path } : { host: '127.0.0.1', port: 0 };
}

export async function startDaemonServices(app: App, env: Env, logger: Logger): Promise<DaemonServices> {
  let server: PgliteServer | null = null;
  if (app.db.pglite) {
    server = createPgliteServer({ pglite: app.db.pglite, listen: daemonSocketAddress(env.dataDir), logger });
    await server.start();
    writeSocketInfo(env.dataDir, { pid: process.pid, ...server.address() });
  }

  const audit = async (action: string, info: ReloadInfo, extra: Record<string, unknown>) => {
    try {
      await app.store.repos.audit.record({ actor: 'mailgrant', channel: 'system', action, details: { trigger: info.trigger, file: info.file, sha256: info.sha256, ...extra } });
    } catch (err) {
      logger.error({ err }, 'could not audit the rules reload');
    }
  };
  const watcher = createRulesWatcher({
    file: env.rulesFile,
    logger,
    onRules: async (rules, info) => {
      // In force for the next message: intake reads the rules per message.
      app.setRules(rules);
      await audit('rules-reloaded', info, { products: rules.products.map((p) => p.id), ownRequestProcess: rules.ownRequestProcess.enabled });
    },
    onRefused: (problem, info) => audit('rules-reload-refused', info, { problem }),
  });
  watcher.start();
  const onHup = () => void watcher.reload('SIGHUP');
  const onPoke = () => app.dispatcher.kick();
  process.on('SIGHUP', onHup);
  process.on('SIGUSR2', onPoke);

  let stopped: Promise<void> | null = null;
  return {
    stop() {
      stopped ??= (async () => {
        process.off('SIGHUP', onHup);
        process.off('SIGUSR2', onPoke);
        watcher.stop();
        // Before the app closes the database: CLI connections are rolled back and let go first.
        await server?.stop();
        removeSocketInfo(env.dataDir);
      })();
      return stopped;
    },
  };
}
