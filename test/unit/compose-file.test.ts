import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ensureDebianPackage } from '../helpers/install.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

/**
 * The deployment files, checked by the tools that will read them. No Docker engine runs here, and
 * the docker CLI has no compose plugin, so `docker compose config` itself is not available; Debian's
 * docker-compose (Compose 1.29) validates the file against the Compose Specification schema and
 * interpolates variables the same way, without needing an engine.
 */
async function composeConfig(env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const bin = await ensureDebianPackage('docker-compose', 'docker-compose');
  try {
    const { stdout, stderr } = await run(bin, ['--project-directory', ROOT, '-f', path.join(ROOT, 'docker-compose.yml'), 'config'], {
      cwd: ROOT,
      // Only what the test gives: no .env or shell variable of the machine may make it pass.
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** The variables README.md documents, from its environment table. */
function readmeVariables(): Set<string> {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  return new Set([...readme.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)].map((m) => m[1]!));
}

describe('docker-compose.yml', () => {
  it('is accepted by docker-compose config once the secrets are set, and wires the three services', async () => {
    if (existsSync(path.join(ROOT, '.env'))) throw new Error('a .env file in the checkout would leak into this test; move it away');
    const r = await composeConfig({ POSTGRES_PASSWORD: 'pgsecret1', MAILBOX_PASSWORD: 'mailsecret2', SMTP_URL: 'smtp://relay.example.org:587' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const config = parse(r.stdout) as { services: Record<string, Record<string, unknown>> };
    expect(Object.keys(config.services).sort()).toEqual(['dovecot', 'mailgrant', 'postgres']);

    const mg = config.services.mailgrant!;
    const env = mg.environment as Record<string, string>;
    expect(env.DATABASE_URL).toBe('postgres://mailgrant:pgsecret1@postgres:5432/mailgrant');
    expect(env.IMAP_URL).toBe('imap://licenses:mailsecret2@dovecot:143/INBOX');
    expect(env.SMTP_URL).toBe('smtp://relay.example.org:587');
    expect(env.HTTP_PORT).toBe('0.0.0.0:9465');
    expect(mg.depends_on).toMatchObject({ postgres: { condition: 'service_healthy' } });
    // Mailgrant is configured with README's variables and nothing else.
    const documented = readmeVariables();
    for (const name of Object.keys(env)) expect(documented.has(name), `${name} is in README's environment table`).toBe(true);

    // Dovecot's password file is written from the same secret as Mailgrant's IMAP_URL.
    const dovecot = config.services.dovecot!;
    expect((dovecot.environment as Record<string, string>).MAILBOX_PASSWORD).toBe('mailsecret2');
    expect((dovecot.command as string[]).join(' ')).toContain('/etc/dovecot/users');
    for (const v of dovecot.volumes as string[]) {
      const host = v.split(':')[0]!;
      if (host.startsWith('/')) expect(existsSync(host), `${host} exists in the repository`).toBe(true);
    }
    // Nothing is published beyond loopback.
    for (const s of Object.values(config.services)) for (const p of (s.ports as string[] | undefined) ?? []) expect(String(p)).toMatch(/^127\.0\.0\.1:/);
  });

  it('refuses to run without the passwords, saying which one is missing', async () => {
    const r = await composeConfig({ MAILBOX_PASSWORD: 'x1' });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('set POSTGRES_PASSWORD in .env');
  });

  it('ships a Dovecot configuration that Dovecot accepts', async () => {
    const doveconf = await ensureDebianPackage('doveconf', 'dovecot-core');
    const { stdout } = await run(doveconf, ['-n', '-c', path.join(ROOT, 'dovecot.conf')]);
    expect(stdout).toContain('protocols = imap lmtp');
    expect(stdout).toMatch(/driver = passwd-file/);
  });
});

describe('Dockerfile', () => {
  it('copies files that exist and starts the daemon as `npm start` does: the package bin, with the same node flags', () => {
    const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    const sources = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(/\s+/));
    expect(sources.length).toBeGreaterThan(3);
    for (const s of sources) expect(existsSync(path.join(ROOT, s)), `COPY ${s}`).toBe(true);
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string>; scripts: Record<string, string> };
    const words = pkg.scripts.start!.split(' ');
    expect(words.slice(-2)).toEqual([pkg.bin.mailgrant, 'start']);
    expect(dockerfile).toContain(`CMD [${words.map((w) => JSON.stringify(w)).join(', ')}]`);
    // The image reads its templates and migrations from next to dist/, as the code expects.
    expect(dockerfile).toMatch(/^COPY templates templates$/m);
    expect(dockerfile).toMatch(/^COPY drizzle drizzle$/m);
  });
});
