import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '../..');
const FIXTURES = join(ROOT, 'test/fixtures/replies');
const USERS = 'alice@contoso.example,bob@contoso.example,carol@contoso.example';

async function explain(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const cwd = mkdtempSync(join(tmpdir(), 'mg-explain-'));
  try {
    const { stdout, stderr } = await run(join(ROOT, 'node_modules/.bin/tsx'), [join(ROOT, 'src/cli/index.ts'), 'explain', ...args], {
      cwd,
      env: { ...process.env, DATA_DIR: join(cwd, 'data'), LOG_LEVEL: 'silent' },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('mailgrant explain', () => {
  it('prints how a reply is understood, as one JSON object with the language and the kept text', async () => {
    const r = await explain([join(FIXTURES, 'apple-mail.eml'), '--users', USERS]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toEqual({
      kind: 'decision',
      decisions: [
        { user: 'alice@contoso.example', verdict: 'approve' },
        { user: 'bob@contoso.example', verdict: 'deny' },
      ],
      comment: expect.stringContaining('no budget'),
      language: 'en',
      text: expect.stringMatching(/^approve alice\ndeny bob: no budget/),
    });
  });

  it('says why a reply is unclear', async () => {
    const r = await explain([join(FIXTURES, 'thanks-only-zh-tw.eml'), '--users', USERS]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ kind: 'unclear', decisions: [], reasonCode: 'no_command', language: 'zh-TW', text: '謝謝', reason: expect.any(String) });
  });

  it('refuses missing arguments with one clear line and a non-zero exit', async () => {
    const r = await explain([join(FIXTURES, 'apple-mail.eml')]);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim()).toBe('mailgrant: Name the people on the request with --users a@example.org,b@example.org');
    const missing = await explain(['/nonexistent.eml', '--users', USERS]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/^mailgrant: Cannot read \/nonexistent\.eml/);
  });
});
