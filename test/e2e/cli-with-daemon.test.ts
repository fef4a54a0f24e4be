import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_RULES_YAML } from '../helpers/admin.js';
import { runCli, startDaemon, type CliRun, type Daemon } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';
import { waitUntil } from '../helpers/wait.js';

/**
 * `mailgrant start` on the embedded defaults (PGlite in $DATA_DIR, mail written as .eml files)
 * as a child process, and the admin console used from other processes while it runs: they go
 * through the daemon's socket, since PGlite is one process's database. Then SIGTERM, exit 0, and
 * the CLI on its own (it opens PGlite itself and sends its mail before exiting).
 */
describe('the CLI while `mailgrant start` runs on the embedded database', () => {
  let dataDir: string;
  let rulesFile: string;
  let port: number;
  let env: Record<string, string>;
  let daemon: Daemon;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'mg-e2e-'));
    rulesFile = join(dataDir, 'rules.yaml');
    writeFileSync(rulesFile, ADMIN_RULES_YAML);
    port = await freePort();
    env = { DATA_DIR: dataDir, RULES_FILE: rulesFile, SMTP_INTAKE: `127.0.0.1:${port}`, HTTP_PORT: 'off', LOG_LEVEL: 'info' };
    daemon = startDaemon(env);
    await daemon.waitForLine(/SMTP intake listening/, 240_000);
  }, 300_000);
  afterAll(async () => {
    await daemon?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const cli = (...args: string[]) => runCli(args, { ...env, LOG_LEVEL: 'warn' });
  const mailTo = async (from: string, subject: string, text = '') => {
    const t = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });
    try {
      await t.sendMail({ from, to: 'licenses@contoso.example', subject, text });
    } finally {
      t.close();
    }
  };
  /** The text part of a mail file Mailgrant wrote, decoded. */
  const mailText = async (file: string) => (await simpleParser(readFileSync(join(dataDir, 'outbox', file)))).text ?? '';
  const outboxFiles = () => (existsSync(join(dataDir, 'outbox')) ? readdirSync(join(dataDir, 'outbox')).filter((f) => f.endsWith('.eml')) : []);
  const waitForMail = (pattern: RegExp) => waitUntil(() => outboxFiles().find((f) => pattern.test(f)), { timeoutMs: 60_000, intervalMs: 200, description: `a mail file matching ${pattern}` });
  /** A refusal: exit code 1 and exactly one line on stderr. */
  const expectRefusal = (r: CliRun, message: RegExp) => {
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr.trim()).toMatch(message);
  };

  it('lists, shows, shares and decides requests, and assigns seats, through the running daemon', async () => {
    await mailTo('Alice Wong <alice@contoso.example>', 'Visio licence', 'Also for: bob');
    await mailTo('Erin Park <erin@contoso.example>', 'Acme Addon please');

    const list = await cli('requests', '--json');
    expect(list.code, list.stderr).toBe(0);
    expect((JSON.parse(list.stdout) as { number: number; productId: string; status: string }[]).map((r) => [r.number, r.productId, r.status])).toEqual([
      [2, 'acme-addon', 'pending'],
      [1, 'visio-plan-2', 'pending'],
    ]);

    const table = await cli('requests', '--status', 'pending');
    expect(table.code, table.stderr).toBe(0);
    const rows = table.stdout.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^#\s+Product\s+Requester\s+Requested\s+Status\s+People$/);
    expect(rows[2]).toMatch(/^1\s+Visio Plan 2\s+Alice Wong <alice@contoso\.example>\s+\d{4}-\d\d-\d\d \d\d:\d\dZ\s+pending\s+2 \(0 approved, 0 denied, 2 undecided\)$/);
    // Aligned: every row's "Status" column starts at the same place, and no colour in a pipe.
    expect(new Set(rows.map((r) => r.indexOf(r.includes('pending') ? 'pending' : 'Status'))).size).toBe(1);
    expect(table.stdout).not.toContain('\x1b[');

    expectRefusal(await cli('decide', '1', '--as', 'bob@contoso.example', '--approve-all'), /^mailgrant: bob@contoso\.example may not decide requests: that needs one of the roles global-admin, license-admin, user-admin/);
    expectRefusal(await cli('decide', '1', '--approve-all'), /^mailgrant: Say who you are with --as ADDRESS/);
    expectRefusal(await cli('decide', '1', '--as', 'dana@contoso.example', '--aprove', 'alice'), /^mailgrant: Unknown option '--aprove'/);
    expectRefusal(await cli('share', '1', '--to', 'stranger@elsewhere.example,carol', '--as', 'dana@contoso.example'), /^mailgrant: Not in the directory: stranger@elsewhere\.example\. Nothing was sent\.$/);
    expect(outboxFiles().filter((f) => f.includes('carol'))).toEqual([]);

    const share = await cli('share', '1', '--to', 'carol', '--as', 'gary@contoso.example', '--subject', 'Your call on Visio', '--message', 'You own the budget.');
    expect(share.code, share.stderr).toBe(0);
    expect(share.stdout).toBe('Shared request #1 with carol@contoso.example.\n');
    // Sent by the daemon's dispatcher (the CLI only queued it and woke the daemon).
    const carols = await waitForMail(/shared-request-carol@contoso\.example\.eml$/);
    const carolMail = readFileSync(join(dataDir, 'outbox', carols), 'utf8');
    expect(carolMail).toMatch(/^Subject: Your call on Visio$/m);
    expect(await mailText(carols)).toContain('You own the budget.');

    const decide = await cli('decide', '1', '--as', 'dana@contoso.example', '--approve', 'alice', '--deny', 'bob', '--disable-plans', 'visio-ai', '--group', 'Visio Users', '--message', 'Bob already has a seat elsewhere.');
    expect(decide.code, decide.stderr).toBe(0);
    expect(decide.stdout).toMatch(/^approved\s+Alice Wong <alice@contoso\.example>$/m);
    expect(decide.stdout).toMatch(/^denied\s+Bob Smith <bob@contoso\.example>$/m);
    expect(decide.stdout).toContain('Request #1 is completed; the outcome mails are on their way.');
    await waitForMail(/outcome-approved-alice@contoso\.example\.eml$/);
    const bobs = await waitForMail(/outcome-denied-bob@contoso\.example\.eml$/);
    expect(await mailText(bobs)).toContain('Bob already has a seat elsewhere.');

    const detail = await cli('request', '1');
    expect(detail.code, detail.stderr).toBe(0);
    expect(detail.stdout).toMatch(/Alice Wong <alice@contoso\.example> \(requester\)\s+approved\s+dana@contoso\.example\s+\S+ \S+\s+CLI\s+message: Bob already has a seat elsewhere\.\s+via group Visio Users, without visio-ai/);
    expect(detail.stdout).toMatch(/carol@contoso\.example\s+gary@contoso\.example/);
    expect(detail.stdout).toMatch(/outcome-denied\s+bob@contoso\.example\s+sent/);

    // Three assignments at once from three processes, for a product with two seats.
    const racers = await Promise.all(['carol', 'erin', 'frank'].map((u) => cli('licenses', 'assign', '--product', 'acme-diagrams', '--users', u, '--as', 'dana@contoso.example')));
    expect(racers.map((r) => r.code).sort()).toEqual([0, 0, 1]);
    const loser = racers.find((r) => r.code === 1)!;
    expectRefusal(loser, /^mailgrant: No seats left for Acme Diagrams \(2 of 2 assigned\): buy more at https:\/\/acme\.example\/buy\.$/);
    expect(loser.stdout).toMatch(/not enough seats/);

    const ledger = await cli('licenses', '--json');
    expect(ledger.code, ledger.stderr).toBe(0);
    expect((JSON.parse(ledger.stdout) as { productId: string; assigned: number; available: number; vendor: string | null }[]).map((l) => [l.productId, l.assigned, l.available, l.vendor])).toEqual([
      ['visio-plan-2', 1, 9, null],
      ['visio-plan-1', 0, 3, null],
      ['acme-diagrams', 2, 0, 'Acme Corp'],
      ['acme-addon', 0, 5, null],
    ]);
    expectRefusal(await cli('licenses', 'set-seats', '--product', 'acme-diagrams', '--seats', '9', '--as', 'dana@contoso.example'), /^mailgrant: seats of Acme Diagrams are managed by Acme Corp: contact the vendor$/);

    const audit = await cli('audit', '--request', '1', '--json');
    expect(audit.code, audit.stderr).toBe(0);
    const entries = JSON.parse(audit.stdout) as { action: string; actor: string; channel: string }[];
    expect(entries.map((e) => [e.action, e.actor, e.channel])).toEqual(
      expect.arrayContaining([
        ['request-shared', 'gary@contoso.example', 'cli'],
        ['person-approved', 'dana@contoso.example', 'cli'],
        ['person-denied', 'dana@contoso.example', 'cli'],
      ]),
    );

    // A second daemon on the same folder is refused with a clear error.
    const second = await runCli(['start'], { ...env, SMTP_INTAKE: 'off' }, 120_000);
    expect(second.code).not.toBe(0);
    expect(second.stdout + second.stderr).toMatch(/is in use by another Mailgrant process \(pid \d+, mailgrant start/);
  }, 900_000);

  it('reloads the rules when the file changes and on SIGHUP, refusing an invalid file and keeping the old rules', async () => {
    let mark = daemon.lines.length;
    writeFileSync(rulesFile, `${ADMIN_RULES_YAML}\nownRequestProcess: { enabled: true, message: "Use the IT portal." }\n`);
    await daemon.waitForLine(/"msg":"rules reloaded"/, 60_000, mark);
    await mailTo('frank@contoso.example', 'Visio please');
    const own = await waitForMail(/own-process-frank@contoso\.example\.eml$/);
    expect(await mailText(own)).toContain('Use the IT portal.');

    mark = daemon.lines.length;
    writeFileSync(rulesFile, ADMIN_RULES_YAML.replace('seats: 10', 'seats: many'));
    await daemon.waitForLine(/rules\.yaml is invalid:.*products\[0\]\.seats/, 60_000, mark);
    await mailTo('remi@contoso.example', 'Visio please');
    await waitForMail(/own-process-remi@contoso\.example\.eml$/);

    mark = daemon.lines.length;
    writeFileSync(rulesFile, ADMIN_RULES_YAML);
    await daemon.waitForLine(/"trigger":"file-change".*"msg":"rules reloaded"|"msg":"rules reloaded".*"trigger":"file-change"/, 60_000, mark);
    mark = daemon.lines.length;
    daemon.process.kill('SIGHUP');
    await daemon.waitForLine(/"trigger":"SIGHUP"/, 60_000, mark);
    await mailTo('frank@contoso.example', 'Visio Plan 1 please');
    await waitForMail(/acknowledgement-frank@contoso\.example\.eml$/);

    const audit = await cli('audit', '--json');
    expect(audit.code, audit.stderr).toBe(0);
    const reloads = (JSON.parse(audit.stdout) as { action: string; details: { trigger: string } }[]).filter((e) => e.action.startsWith('rules-'));
    expect(reloads.map((e) => [e.action, e.details.trigger])).toEqual([
      ['rules-reloaded', 'file-change'],
      ['rules-reload-refused', 'file-change'],
      ['rules-reloaded', 'file-change'],
      ['rules-reloaded', 'SIGHUP'],
    ]);
  }, 600_000);

  it('stops on SIGTERM with exit 0; then a CLI command opens PGlite itself and sends its mail before exiting', async () => {
    expect(await daemon.stop()).toBe(0);
    expect(existsSync(join(dataDir, 'db.socket-info'))).toBe(false);
    expect(existsSync(join(dataDir, 'db.lock'))).toBe(false);
    const before = outboxFiles().length;
    const share = await cli('share', '2', '--to', 'remi', '--as', 'ursula@contoso.example');
    expect(share.code, share.stderr).toBe(0);
    const after = outboxFiles().filter((f) => /shared-request-remi@contoso\.example\.eml$/.test(f));
    expect(after).toHaveLength(1);
    expect(outboxFiles().length).toBe(before + 1);
    expect(readFileSync(join(dataDir, 'outbox', after[0]!), 'utf8')).toMatch(/^X-Mailgrant-Request: 2$/m);
  }, 600_000);
});
