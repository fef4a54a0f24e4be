import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { templatesCommand } from '../../src/cli/templates-preview.js';
import { parseEnv } from '../../src/config/env.js';
import { MAIL_KINDS, type MailDataByKind, type MailKind } from '../../src/mail/outbound/mail-data.js';
import { writePreview } from '../../src/mail/outbound/preview.js';
import { BUNDLED_TEMPLATES_DIR, createRenderer, type Renderer } from '../../src/mail/outbound/render.js';
import { sampleData } from '../../src/mail/outbound/sample-data.js';
import { openScreenshotter } from '../../src/mail/outbound/screenshot.js';
import { isMailgrantError } from '../../src/shared/errors.js';
import { LOCALES, type Locale } from '../../src/shared/locale.js';
import { exampleRules, memoryLogger } from '../helpers/app.js';
import { ensureDebianFile, ensureDebianPackage } from '../helpers/install.js';
import { decodePng, distinctColours } from '../helpers/png.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>';
// Traditional Chinese needs a CJK font in the screenshot; Debian's small one will do for the test.
const CJK_FONT = '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc';

/** `mailgrant …` from the source tree, as an admin runs it; resolves with its exit code and output. */
function mailgrant(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/index.ts'), ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The templates command in this process (a subprocess costs seconds of start-up); resolves with its output. */
async function runTemplates(args: string[], env: Record<string, string> = {}): Promise<string> {
  let out = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out += chunk.toString('utf8');
      cb();
    },
  });
  const code = await templatesCommand(args, parseEnv(env), sink);
  expect(code).toBe(0);
  return out;
}

/** The sample data with every value that comes from someone's mail replaced by markup. */
function hostileData(kind: MailKind, locale: Locale): MailDataByKind[MailKind] {
  const d = sampleData(kind, locale) as unknown as Record<string, unknown>;
  const fromMail = ['subjectLine', 'comment', 'personalMessage', 'keptText', 'replier', 'customSubject'];
  for (const key of fromMail) if (key in d && d[key] !== null) d[key] = HOSTILE;
  if (Array.isArray(d.names)) d.names = [HOSTILE];
  if (d.reason && typeof d.reason === 'object') d.reason = { code: 'unknown_name', name: HOSTILE };
  (d.recipient as { name: string }).name = HOSTILE;
  return d as unknown as MailDataByKind[MailKind];
}

describe('templates: every kind in every locale, previews and screenshots', () => {
  let renderer: Renderer;
  let outDir: string;

  beforeAll(() => {
    renderer = createRenderer({ templatesDir: BUNDLED_TEMPLATES_DIR });
    outDir = mkdtempSync(path.join(tmpdir(), 'mailgrant-preview-'));
  });
  afterAll(() => {
    rmSync(outDir, { recursive: true, force: true });
  });

  for (const locale of LOCALES) {
    it(`renders all ${MAIL_KINDS.length} templates in ${locale} to HTML and plain-text files`, async () => {
      for (const kind of MAIL_KINDS) {
        const r = await writePreview(renderer, kind, locale, { outDir });
        const html = readFileSync(r.htmlFile, 'utf8');
        const text = readFileSync(r.textFile, 'utf8');
        expect(html, `${kind}.${locale}: MJML was compiled`).toMatch(/^<!doctype html>/i);
        expect(html, `${kind}.${locale}: no MJML left`).not.toMatch(/<\/?mj-/);
        expect(html).toContain(`<title>`);
        expect(r.mail.subject.length, `${kind}.${locale}: subject`).toBeGreaterThan(3);
        expect(text.startsWith(`Subject: ${r.mail.subject}\n\n`)).toBe(true);
        // A real plain-text part: words, no markup.
        expect(r.mail.text.trim().length, `${kind}.${locale}: plain text`).toBeGreaterThan(40);
        expect(r.mail.text, `${kind}.${locale}: plain text has no HTML`).not.toMatch(/<\/?(div|p|table|td|span|br)\b/i);
        expect(r.mail.text).not.toContain('{{');
        expect(html).not.toContain('{{');
      }
    });

    it(`escapes values that came from mail in the ${locale} HTML parts`, () => {
      for (const kind of MAIL_KINDS) {
        const { html } = renderer.render(kind, hostileData(kind, locale) as MailDataByKind[typeof kind]);
        expect(html, `${kind}.${locale}`).not.toContain('<script>alert');
        expect(html, `${kind}.${locale}`).not.toContain('<img src=x');
        expect(html, `${kind}.${locale}: the greeting shows the escaped name`).toContain('&lt;script&gt;alert(');
      }
    });
  }

  it('screenshots one mail per locale through headless Chromium, each a real picture', async () => {
    const chromium = await ensureDebianPackage('chromium', 'chromium');
    await ensureDebianFile(CJK_FONT, 'fonts-wqy-microhei');
    const shooter = await openScreenshotter({ executablePath: chromium });
    const kinds: Record<Locale, MailKind> = { en: 'shared-request', fr: 'receipt', 'zh-TW': 'outcome-approved' };
    try {
      for (const locale of LOCALES) {
        const r = await writePreview(renderer, kinds[locale], locale, { outDir, screenshotter: shooter });
        const png = decodePng(readFileSync(r.pngFile!));
        expect(png.width, `${r.pngFile}`).toBe(800);
        expect(png.height, `${r.pngFile}: a whole mail, not a blank viewport`).toBeGreaterThan(400);
        // Text, borders and the coloured header: far more than one colour.
        expect(distinctColours(png), `${r.pngFile} is not blank`).toBeGreaterThan(20);
      }
    } finally {
      await shooter.close();
    }
  });

  it('`mailgrant templates preview --png` writes the HTML, the text and a screenshot', async () => {
    await ensureDebianPackage('chromium', 'chromium');
    const out = path.join(outDir, 'cli');
    const r = await mailgrant(['templates', 'preview', 'shared-request', '--locale', 'fr', '--out', out, '--png']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const ext of ['html', 'txt', 'png']) expect(existsSync(path.join(out, `shared-request.fr.${ext}`)), ext).toBe(true);
    expect(r.stdout).toContain('Décision attendue');
    expect(distinctColours(decodePng(readFileSync(path.join(out, 'shared-request.fr.png'))))).toBeGreaterThan(20);
  });

  it('`templates list` shows every kind in every locale; unknown names and missing Chromium get one clear sentence', async () => {
    const list = await runTemplates(['list']);
    expect(list.trim().split('\n')).toHaveLength(MAIL_KINDS.length * LOCALES.length);
    expect(list).toMatch(/^shared-request\s+zh-TW\s+\S+zh-TW\/shared-request\.mjml\s+\(bundled\)$/m);

    await expect(runTemplates(['preview', 'shared-requets', '--out', path.join(outDir, 'x')])).rejects.toThrow(
      /^There is no template "shared-requets"\. Templates: acknowledgement, /,
    );
    const noChromium = runTemplates(['preview', 'receipt', '--png', '--chromium', '/nonexistent/chromium', '--out', path.join(outDir, 'y')]);
    await expect(noChromium).rejects.toThrow(/not installed at \/nonexistent\/chromium\. On Debian or Ubuntu: apt-get install chromium/);
    await expect(noChromium).rejects.toSatisfy((e) => isMailgrantError(e, 'not_found'));
  });

  it('refuses to start on an override that does not compile, naming its file and line', async () => {
    const overrides = path.join(outDir, 'overrides');
    mkdirSync(path.join(overrides, 'fr'), { recursive: true });
    const file = path.join(overrides, 'fr', 'receipt.mjml');
    writeFileSync(file, ['---', 'subject: "Reçu"', 'text: "ok"', '---', '<mjml>', '  <mj-body>', '    <mj-section><mj-colum></mj-colum></mj-section>', '  </mj-body>', '</mjml>'].join('\n'));
    const dataDir = path.join(outDir, 'data');
    const start = await mailgrant(['start'], { TEMPLATES_DIR: overrides, DATA_DIR: dataDir, SMTP_INTAKE: 'off', HTTP_PORT: 'off' });
    expect(start.code).toBe(1);
    expect(start.stderr).toContain(`mailgrant: Template ${file}:7: invalid MJML`);
    // A field that does not exist compiles, but rendering refuses it: that too is caught at start.
    rmSync(file);
    const misspelt = path.join(overrides, 'en', 'admin-alert.mjml');
    mkdirSync(path.dirname(misspelt), { recursive: true });
    writeFileSync(misspelt, ['---', 'subject: "{{titel}}"', 'text: "y"', '---', '<mjml><mj-body></mj-body></mjml>'].join('\n'));
    const env = parseEnv({ TEMPLATES_DIR: overrides, DATA_DIR: dataDir, SMTP_INTAKE: 'off', HTTP_PORT: 'off' });
    await expect(createApp({ env, logger: memoryLogger().logger, rules: exampleRules() })).rejects.toThrow(`Template ${misspelt}:2: cannot render: "titel" not defined`);
    rmSync(misspelt);
    writeFileSync(file, ['---', 'subject: "Reçu"', 'text: "ok"', '---', '<mjml>', '  <mj-body>', '    <mj-section><mj-colum></mj-colum></mj-section>', '  </mj-body>', '</mjml>'].join('\n'));

    // The same check is a preview away.
    await expect(runTemplates(['preview', 'receipt', '--locale', 'fr', '--out', path.join(outDir, 'z')], { TEMPLATES_DIR: overrides })).rejects.toThrow(`${file}:7`);
  });
});
