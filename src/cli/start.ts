import { createApp } from '../app.js';
import type { Env } from '../config/env.js';
import type { Logger } from '../shared/logger.js';
import { startDaemonServices } from './daemon-services.js';
import { tuneHeapGrowth } from './heap-growth.js';

/** The daemon: migrate under a lock, start, and on SIGTERM/SIGINT stop cleanly (a second signal exits at once). */
export async function startCommand(env: Env, logger: Logger): Promise<number> {
  tuneHeapGrowth();
  // A signal while starting (compiling templates, waiting for another instance's migration lock)
  // must not kill the daemon with the default action halfway: it is noted, and the daemon stops
  // cleanly once it is up. A second one still exits at once.
  let early: NodeJS.Signals | null = null;
  const onEarlySignal = (signal: NodeJS.Signals) => {
    if (early) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    early = signal;
    logger.info({ signal }, 'signal while starting: stopping as soon as started');
  };
  process.on('SIGTERM', onEarlySignal);
  process.on('SIGINT', onEarlySignal);
  const app = await createApp({ env, logger });
  await app.db.migrate();
  // The CLI's way in to the embedded database, rules reload (SIGHUP, file change), SIGUSR2 wake-up.
  const services = await startDaemonServices(app, env, logger);
  await app.start();
  return new Promise<number>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: exiting now');
        process.exit(1);
      }
      stopping = true;
      logger.info({ signal }, 'stopping: finishing the work in hand');
      const hardStop = setTimeout(() => {
        logger.error('shutdown took longer than 10 s; exiting');
        process.exit(1);
      }, 10_000);
      hardStop.unref();
      services.stop().then(() => app.stop()).then(
        () => {
          logger.info('stopped');
          resolve(0);
        },
        (err: Error) => {
          logger.error({ err }, 'error while stopping');
          resolve(1);
        },
      );
    };
    process.off('SIGTERM', onEarlySignal);
    process.off('SIGINT', onEarlySignal);
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    if (early) onSignal(early);
  });
}
