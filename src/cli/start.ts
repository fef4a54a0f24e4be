import { createApp } from '../app.js';
import type { Env } from '../config/env.js';
import type { Logger } from '../shared/logger.js';

/** The daemon: migrate under a lock, start, and on SIGTERM/SIGINT stop cleanly (a second signal exits at once). */
export async function startCommand(env: Env, logger: Logger): Promise<number> {
  const app = await createApp({ env, logger });
  await app.db.migrate();
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
      app.stop().then(
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
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
