import type { Env } from '../config/env.js';
import { openDatabase, redactUrl } from '../db/client.js';
import type { Logger } from '../shared/logger.js';

export async function migrateCommand(env: Env, logger: Logger): Promise<number> {
  const db = await openDatabase({ databaseUrl: env.databaseUrl, dataDir: env.dataDir });
  try {
    await db.migrate();
    logger.info({ database: env.databaseUrl ? redactUrl(env.databaseUrl) : `${env.dataDir}/db (PGlite)` }, 'migrations applied');
  } finally {
    await db.close();
  }
  return 0;
}
