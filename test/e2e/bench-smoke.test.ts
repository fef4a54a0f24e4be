/**
 * The benchmark still runs: `npm run bench -- --quick` (its own PostgreSQL, Dovecot and SMTP
 * sink, Mailgrant as a child process) finishes and writes every figure as a finite number. The
 * targets are not checked here; BENCHMARKS.md and the full run are about those.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { FIGURE_KEYS } from '../../bench/report.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TIMEOUT_MS = 8 * 60_000;

function run(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/run.ts'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (b: Buffer) => {
      output = (output + b.toString('utf8')).slice(-40_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    // The bench bounds each of its own steps; this only guards against the bench itself hanging.
    const timer = setTimeout(() => child.kill('SIGINT'), TIMEOUT_MS - 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('npm run bench -- --quick', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mg-bench-smoke-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs against real servers and writes every figure as a finite number', { timeout: TIMEOUT_MS }, async () => {
    const out = path.join(dir, 'results.json');
    const { code, output } = await run(['--quick', '--out', out]);
    expect(code, `the quick bench failed:\n${output}`).toBe(0);
    const results = JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown>;
    for (const key of FIGURE_KEYS) {
      const value = key.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], results);
      expect(typeof value === 'number' && Number.isFinite(value), `${key} = ${JSON.stringify(value)}`).toBe(true);
    }
    expect(output).toMatch(/imap_latency_ms\.p50 .*(PASS|FAIL)/);
  });
});
