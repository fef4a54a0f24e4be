import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createApp, type App } from '../../src/app.js';
import { parseEnv } from '../../src/config/env.js';
import { parseRules, type Rules } from '../../src/config/rules.js';
import { EXAMPLE_RULES_YAML } from '../../src/config/example-rules.js';
import { openDatabase } from '../../src/db/client.js';
import { BUNDLED_TEMPLATES_DIR, createRenderer, type Renderer } from '../../src/mail/outbound/render.js';
import { createLogger, type Logger } from '../../src/shared/logger.js';

export const exampleRules = (patch: (yaml: string) => string = (y) => y): Rules => parseRules(patch(EXAMPLE_RULES_YAML), 'test rules');

/** Log lines kept in memory, so a test can assert on them and a failing test can print them. */
export function memoryLogger(level = 'debug'): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  return { logger: createLogger({ level, pretty: false, destination }), lines };
}

export interface TestAppOptions {
  /** A PostgreSQL URL, or null for an in-memory PGlite. */
  databaseUrl: string | null;
  env?: Record<string, string>;
  rules?: Rules;
  clock?: () => Date;
}

let sharedRenderer: Renderer | null = null;
/** The bundled templates, compiled once per test process. */
export function bundledRenderer(): Renderer {
  sharedRenderer ??= createRenderer({ templatesDir: BUNDLED_TEMPLATES_DIR });
  return sharedRenderer;
}

let templatePromise: Promise<Blob> | null = null;
/**
 * A migrated, empty PGlite data folder, made once per test process. Starting each test's
 * database from it skips initdb and the migrations, which cost seconds per PGlite instance.
 */
export function migratedPgliteTemplate(): Promise<Blob> {
  templatePromise ??= (async () => {
    const db = await openDatabase({ databaseUrl: null, dataDir: tmpdir(), inMemory: true });
    try {
      await db.migrate();
      return await db.pglite!.dumpDataDir('none');
    } finally {
      await db.close();
    }
  })();
  return templatePromise;
}

/** Wires the real modules the way main does, with a temporary data folder. */
export async function startTestApp(o: TestAppOptions): Promise<App & { dataDir: string; logLines: string[]; cleanup(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'mg-app-'));
  // No listeners unless a test asks: parallel test files must not fight over 2525 and 9465.
  const env = parseEnv({ DATA_DIR: dataDir, SMTP_INTAKE: 'off', HTTP_PORT: 'off', ...(o.databaseUrl ? { DATABASE_URL: o.databaseUrl } : {}), ...o.env });
  const { logger, lines } = memoryLogger();
  const db = await openDatabase({ databaseUrl: o.databaseUrl, dataDir, inMemory: !o.databaseUrl, pgliteTemplate: o.databaseUrl ? undefined : await migratedPgliteTemplate() });
  await db.migrate();
  const app = await createApp({ env, logger, rules: o.rules ?? exampleRules(), db, clock: o.clock, renderer: env.templatesDir ? undefined : bundledRenderer() });
  return Object.assign(app, {
    dataDir,
    logLines: lines,
    async cleanup() {
      await app.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  });
}
