import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_RULES_YAML, adminRules, requestByMail } from '../helpers/admin.js';
import { startTestApp } from '../helpers/app.js';
import { runCli } from '../helpers/cli.js';
import { startPostgres, type PgServer } from '../helpers/postgres.js';

/**
 * The admin console as separate processes against the PostgreSQL server (DATABASE_URL): no
 * daemon involved, several commands at once, and a command that queues mail sends it itself.
 */
describe('the CLI on the PostgreSQL server', () => {
  let pg: PgServer;
  let dataDir: string;
  let env: Record<string, string>;
  let app: Awaited<ReturnType<typeof startTestApp>>;

  beforeAll(async () => {
    pg = await startPostgres();
    const url = await pg.createDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'mg-pgcli-'));
    writeFileSync(join(dataDir, 'rules.yaml'), ADMIN_RULES_YAML);
    env = { DATABASE_URL: url, DATA_DIR: dataDir, RULES_FILE: join(dataDir, 'rules.yaml'), LOG_LEVEL: 'warn' };
    // Only to create a request through the real pipeline; it is not started (no dispatcher).
    app = await startTestApp({ databaseUrl: url, rules: adminRules() });
  });
  afterAll(async () => {
    await app?.cleanup();
    await pg?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('five concurrent assign processes for two seats: two get one, three are refused with where to buy more', async () => {
    const runs = await Promise.all(['alice', 'bob', 'carol', 'erin', 'frank'].map((u) => runCli(['licenses', 'assign', '--product', 'acme-diagrams', '--users', u, '--as', 'gary@contoso.example', '--json'], env)));
    expect(runs.map((r) => r.code).sort()).toEqual([0, 0, 1, 1, 1]);
    for (const r of runs.filter((x) => x.code === 1)) {
      expect(r.stderr.trim()).toBe('mailgrant: No seats left for Acme Diagrams (2 of 2 assigned): buy more at https://acme.example/buy.');
      expect(JSON.parse(r.stdout).results[0].outcome).toBe('no-seats');
    }
    const ledger = await runCli(['licenses', '--json'], env);
    expect(JSON.parse(ledger.stdout).find((l: { productId: string }) => l.productId === 'acme-diagrams')).toMatchObject({ seats: 2, assigned: 2, available: 0, vendor: 'Acme Corp' });
  }, 300_000);

  it('share and decide send their mail before exiting; refusals are one line and exit 1', async () => {
    const id = await requestByMail(app, 'alice@contoso.example', 'Visio licence', 'Also for: bob');
    const outbox = () => (existsSync(join(dataDir, 'outbox')) ? readdirSync(join(dataDir, 'outbox')) : []);
    const refused = await runCli(['share', String(id), '--to', 'nobody@elsewhere.example', '--as', 'dana@contoso.example'], env);
    expect([refused.code, refused.stderr]).toEqual([1, 'mailgrant: Not in the directory: nobody@elsewhere.example. Nothing was sent.\n']);
    const share = await runCli(['share', String(id), '--to', 'remi@contoso.example', '--as', 'dana@contoso.example'], env);
    expect(share.code, share.stderr).toBe(0);
    expect(outbox().some((f) => /shared-request-remi@contoso\.example\.eml$/.test(f))).toBe(true);
    const decide = await runCli(['decide', String(id), '--as', 'ursula@contoso.example', '--approve-all', '--json'], env);
    expect(decide.code, decide.stderr).toBe(0);
    expect(JSON.parse(decide.stdout)).toMatchObject({ requestId: id, status: 'completed', recorded: [{ email: 'alice@contoso.example' }, { email: 'bob@contoso.example' }] });
    expect(outbox().filter((f) => /outcome-approved/.test(f))).toHaveLength(2);
    const notAdmin = await runCli(['licenses', 'revoke', '--product', 'visio-plan-2', '--users', 'alice', '--as', 'alice@contoso.example'], env);
    expect([notAdmin.code, notAdmin.stderr.trim().split('\n').length]).toEqual([1, 1]);
    expect(notAdmin.stderr).toMatch(/^mailgrant: alice@contoso\.example may not revoke licences/);
  }, 300_000);
});
