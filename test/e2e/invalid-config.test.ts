import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { EXAMPLE_RULES_YAML } from '../../src/config/example-rules.js';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '../..');

async function start(env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  const cwd = mkdtempSync(join(tmpdir(), 'mg-start-'));
  try {
    await run(join(ROOT, 'node_modules/.bin/tsx'), [join(ROOT, 'src/cli/index.ts'), 'start'], {
      cwd,
      env: { ...process.env, DATA_DIR: join(cwd, 'data'), SMTP_INTAKE: 'off', HTTP_PORT: 'off', ...env },
      timeout: 120_000,
    });
    return { code: 0, stderr: '' };
  } catch (err) {
    const e = err as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr };
  }
}

/** The daemon refuses to start on bad configuration, saying what is wrong, instead of running half-configured. */
describe('mailgrant start with invalid configuration', () => {
  it('refuses a rules file with a wrong type or unknown key, naming the file and the key path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mg-rules-'));
    const file = join(dir, 'rules.yaml');
    writeFileSync(file, EXAMPLE_RULES_YAML.replace('seats: 10', 'seats: "ten"').replace('retention: 12 months', 'retention: 12 months\nretentoin: 3 days'));
    const r = await start({ RULES_FILE: file });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`mailgrant: ${file} is invalid:`);
    expect(r.stderr).toMatch(/products\[0\]\.seats: /);
    expect(r.stderr).toMatch(/\(top level\): unknown key "retentoin"/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // one clear message, no stack trace
  });

  it('refuses invalid environment settings, all at once', async () => {
    const r = await start({ IMAP_URL: 'http://mail.example', LOG_LEVEL: 'chatty' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/IMAP_URL: expected the scheme imap:\/\//);
    expect(r.stderr).toMatch(/LOG_LEVEL: expected one of/);
  });
});
