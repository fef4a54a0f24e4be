/**
 * A template rendered with sample data to files an admin can open: the HTML part (open it in a
 * browser), the plain-text part, and optionally a PNG screenshot of the HTML.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Locale } from '../../shared/locale.js';
import type { MailDataByKind, MailKind, RenderedMail } from './mail-data.js';
import type { Renderer } from './render.js';
import { sampleData } from './sample-data.js';
import type { Screenshotter } from './screenshot.js';

export interface PreviewResult {
  kind: MailKind;
  locale: Locale;
  mail: RenderedMail;
  htmlFile: string;
  textFile: string;
  pngFile: string | null;
}

export interface PreviewOptions {
  outDir: string;
  /** Takes the screenshot when given. */
  screenshotter?: Screenshotter | null;
  /** Data to render instead of the sample data (tests use hostile values). */
  data?: MailDataByKind[MailKind];
}

/** Files are named `<kind>.<locale>.html|txt|png`, so every locale of a kind sits side by side. */
export async function writePreview(renderer: Renderer, kind: MailKind, locale: Locale, o: PreviewOptions): Promise<PreviewResult> {
  const data = o.data ?? sampleData(kind, locale);
  const mail = renderer.render(kind, data as MailDataByKind[typeof kind]);
  mkdirSync(o.outDir, { recursive: true });
  const base = path.join(o.outDir, `${kind}.${locale}`);
  const htmlFile = `${base}.html`;
  const textFile = `${base}.txt`;
  writeFileSync(htmlFile, mail.html);
  // The subject on top, as a mail client shows it; the plain-text part below, unchanged.
  writeFileSync(textFile, `Subject: ${mail.subject}\n\n${mail.text}`);
  let pngFile: string | null = null;
  if (o.screenshotter) {
    pngFile = `${base}.png`;
    await o.screenshotter.shoot(mail.html, pngFile);
  }
  return { kind, locale, mail, htmlFile, textFile, pngFile };
}

/**
 * Renders every overridden template once with the sample data. Compiling catches syntax; this
 * catches what only rendering can, such as a misspelt field (`{{titel}}`), which strict
 * Handlebars refuses — at start, naming the file and line, instead of on the first real mail.
 */
export function trialRenderOverrides(renderer: Renderer, overridesDir: string): void {
  const prefix = path.resolve(overridesDir) + path.sep;
  for (const t of renderer.templates) {
    if (!t.file.startsWith(prefix)) continue;
    renderer.render(t.kind, sampleData(t.kind, t.locale));
  }
}
