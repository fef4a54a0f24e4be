import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Env } from '../config/env.js';
import { MAIL_KINDS, type MailKind } from '../mail/outbound/mail-data.js';
import { writePreview } from '../mail/outbound/preview.js';
import { BUNDLED_TEMPLATES_DIR, createRenderer, type Renderer } from '../mail/outbound/render.js';
import { openScreenshotter, type Screenshotter } from '../mail/outbound/screenshot.js';
import { MailgrantError } from '../shared/errors.js';
import { isLocale, LOCALES, type Locale } from '../shared/locale.js';

const USAGE = `Usage:
  mailgrant templates list
  mailgrant templates preview NAME [--locale en|fr|zh-TW|all] [--out DIR] [--png] [--chromium PATH]`;

/**
 * `mailgrant templates list|preview`: the templates in force (TEMPLATES_DIR overrides included)
 * and what a mail looks like with sample data, before anyone receives it. Compiling is the same
 * as at start, so an override that would stop the daemon is reported here with its file and line.
 */
export async function templatesCommand(args: string[], env: Env, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'list') return listTemplates(loadRenderer(env), env, out);
  if (sub === 'preview') return previewTemplates(rest, env, out);
  throw new MailgrantError('invalid_input', sub ? `Unknown templates command "${sub}".\n${USAGE}` : USAGE);
}

function loadRenderer(env: Env): Renderer {
  return createRenderer({ templatesDir: BUNDLED_TEMPLATES_DIR, overridesDir: env.templatesDir });
}

function listTemplates(renderer: Renderer, env: Env, out: NodeJS.WritableStream): number {
  const width = Math.max(...MAIL_KINDS.map((k) => k.length));
  for (const t of renderer.templates) {
    const source = env.templatesDir && t.file.startsWith(env.templatesDir + path.sep) ? 'override' : 'bundled';
    const note = t.fallback ? `${source}, English stands in` : source;
    out.write(`${t.kind.padEnd(width)}  ${t.locale.padEnd(5)}  ${t.file}  (${note})\n`);
  }
  for (const file of renderer.unusedOverrides) out.write(`unused override: ${file}\n`);
  return 0;
}

function isKind(name: string): name is MailKind {
  return (MAIL_KINDS as readonly string[]).includes(name);
}

/** Traditional Chinese in a screenshot needs a CJK font; without one every character is a box. */
function hasCjkFont(): boolean {
  try {
    return execFileSync('fc-list', [':lang=zh-tw', 'family'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
  } catch {
    // No fontconfig tools: cannot tell, so do not warn.
    return true;
  }
}

async function previewTemplates(args: string[], env: Env, out: NodeJS.WritableStream): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { locale: { type: 'string', default: 'en' }, out: { type: 'string', default: './preview' }, png: { type: 'boolean', default: false }, chromium: { type: 'string' } },
  });
  const name = positionals[0];
  if (!name || positionals.length > 1) throw new MailgrantError('invalid_input', USAGE);
  if (!isKind(name)) throw new MailgrantError('invalid_input', `There is no template "${name}". Templates: ${MAIL_KINDS.join(', ')}.`);
  const locales: Locale[] = values.locale === 'all' ? [...LOCALES] : isLocale(values.locale) ? [values.locale] : [];
  if (locales.length === 0) throw new MailgrantError('invalid_input', `--locale expects ${LOCALES.join(', ')} or all, got "${values.locale}".`);
  const outDir = path.resolve(values.out);

  const renderer = loadRenderer(env);
  let screenshotter: Screenshotter | null = null;
  if (values.png) {
    screenshotter = await openScreenshotter({ executablePath: values.chromium });
    if (locales.includes('zh-TW') && !hasCjkFont()) {
      process.stderr.write('mailgrant: no Traditional Chinese font is installed, so the zh-TW screenshot shows boxes: apt-get install fonts-noto-cjk\n');
    }
  }
  try {
    for (const locale of locales) {
      const r = await writePreview(renderer, name, locale, { outDir, screenshotter });
      out.write(`${name} (${locale}): ${r.mail.subject}\n`);
      for (const file of [r.htmlFile, r.textFile, r.pngFile]) if (file) out.write(`  ${file}\n`);
    }
  } finally {
    await screenshotter?.close();
  }
  return 0;
}
