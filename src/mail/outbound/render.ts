/**
 * The mail renderer. `createRenderer` is synchronous: it reads and compiles every template
 * (MJML included) when called — do it once at start-up and keep the renderer; a broken template
 * or override throws `MailgrantError('template_invalid')` there, naming the file and line, so
 * the daemon refuses to start rather than failing on the first mail.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOCALES, type Locale } from '../../shared/locale.js';
import { checkTemplate, compilePart, finishTemplate, loadExpanded, mjmlHtml, runMjml, runMjmlOffThread, type CheckedTemplate, type CompiledTemplate } from './compile.js';
import { createHandlebarsEnv } from './helpers.js';
import { MAIL_KINDS, type MailDataByKind, type MailKind, type RenderedMail } from './mail-data.js';
import { resolveFile, templateError, type SourceLine, type TemplateRoots } from './template-files.js';

export interface TemplateEntry {
  kind: MailKind;
  /** The locale asked for. */
  locale: Locale;
  /** The file actually used (an override, the bundled file, or the English one as fallback). */
  file: string;
  /** True when `<locale>/<kind>.mjml` exists nowhere and the English template stands in. */
  fallback: boolean;
}

export interface Renderer {
  /** Renders with the template for `data.locale`; falls back to 'en' only when that locale's file is missing. */
  render<K extends MailKind>(kind: K, data: MailDataByKind[K]): RenderedMail;
  readonly templates: TemplateEntry[];
  /**
   * Files in TEMPLATES_DIR that replace nothing (a misspelt kind, a wrong folder): they are
   * harmless but an admin would expect them to take effect, so the caller should log them.
   */
  readonly unusedOverrides: string[];
}

export interface RendererOptions {
  /** The bundled templates (see `BUNDLED_TEMPLATES_DIR`). */
  templatesDir: string;
  /** TEMPLATES_DIR: a file at the same relative path replaces the bundled one. */
  overridesDir?: string | null;
}

/** `templates/` at the repository root; the same relative path works from `src/` (tsx) and `dist/`. */
export const BUNDLED_TEMPLATES_DIR = fileURLToPath(new URL('../../../templates/', import.meta.url));

function rootsOf(opts: RendererOptions): TemplateRoots {
  return { bundled: path.resolve(opts.templatesDir), overrides: opts.overridesDir ? path.resolve(opts.overridesDir) : null };
}

/** Which file serves (kind, locale): that locale's file if any root has it, else English. */
function locate(roots: TemplateRoots, kind: MailKind, locale: Locale): { file: string; locale: Locale } | null {
  const own = resolveFile(roots, `${locale}/${kind}.mjml`);
  if (own) return { file: own, locale };
  const en = resolveFile(roots, `en/${kind}.mjml`);
  return en ? { file: en, locale: 'en' } : null;
}

/** Subjects are one header line: collapse any newline or run of spaces a template produced. */
function cleanSubject(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

/** Plain text: no trailing spaces, at most one blank line in a row, one final newline. */
function cleanText(s: string): string {
  return `${s.replace(/[ \t]+$/gm, '').replace(/\n{3,}/g, '\n\n').trim()}\n`;
}

function renderWith(t: CompiledTemplate, data: object): RenderedMail {
  const subject = cleanSubject(t.subject(data));
  // The HTML <title> shows the subject; it is added to the data rather than re-rendered in MJML.
  const html = t.html({ ...data, mailSubject: subject });
  return { subject, html, text: cleanText(t.text(data)) };
}

/** Every template file a renderer needs, read and checked, before MJML runs on any of them. */
interface RendererPlan {
  roots: TemplateRoots;
  env: ReturnType<typeof createHandlebarsEnv>;
  partialCache: Map<string, SourceLine[]>;
  /** Each file once, in the order first needed: a fallback reuses the English file. */
  files: Map<string, CheckedTemplate>;
  /** `<locale>/<kind>` → the file that serves it. */
  slots: Map<string, string>;
  templates: TemplateEntry[];
}

function planRenderer(opts: RendererOptions): RendererPlan {
  const roots = rootsOf(opts);
  const env = createHandlebarsEnv();
  const partialCache = new Map<string, SourceLine[]>();
  const files = new Map<string, CheckedTemplate>();
  const slots = new Map<string, string>();
  const templates: TemplateEntry[] = [];
  for (const kind of MAIL_KINDS) {
    for (const locale of LOCALES) {
      const found = locate(roots, kind, locale);
      if (!found) throw templateError(path.join(roots.bundled, `en/${kind}.mjml`), null, `missing: no template for "${kind}" in ${locale} nor in en`);
      if (!files.has(found.file)) files.set(found.file, checkTemplate(env, loadExpanded(roots, found.locale, found.file, partialCache)));
      slots.set(`${locale}/${kind}`, found.file);
      templates.push({ kind, locale, file: found.file, fallback: found.locale !== locale });
    }
  }
  return { roots, env, partialCache, files, slots, templates };
}

function buildRenderer(plan: RendererPlan, htmlOf: (file: string, checked: CheckedTemplate) => string): Renderer {
  const byFile = new Map<string, CompiledTemplate>();
  for (const [file, checked] of plan.files) byFile.set(file, finishTemplate(plan.env, checked, htmlOf(file, checked)));
  const table = new Map<string, CompiledTemplate>();
  for (const [slot, file] of plan.slots) table.set(slot, byFile.get(file)!);
  return {
    templates: plan.templates,
    unusedOverrides: unusedOverrides(plan.roots.overrides, new Set([...plan.files.keys(), ...plan.partialCache.keys()])),
    render<K extends MailKind>(kind: K, data: MailDataByKind[K]): RenderedMail {
      const compiled = table.get(`${data.locale}/${kind}`) ?? table.get(`en/${kind}`);
      if (!compiled) throw templateError(kind, null, `no template for mail kind "${kind}"`);
      return renderWith(compiled, data);
    },
  };
}

/** Compiles every template in this thread (CLI commands, tests): MJML stays loaded afterwards. */
export function createRenderer(opts: RendererOptions): Renderer {
  return buildRenderer(planRenderer(opts), (file, c) => runMjml(c.mjmlSource, c.expanded.body, file));
}

/**
 * The same renderer, with MJML run in a worker thread that exits when done (see
 * `runMjmlOffThread`): for the daemon, whose memory should not hold MJML for its whole life.
 * Errors are the same as `createRenderer`'s, naming the file and line.
 */
export async function createRendererOffThread(opts: RendererOptions): Promise<Renderer> {
  const plan = planRenderer(opts);
  const checked = [...plan.files.values()];
  const outcomes = await runMjmlOffThread(checked.map((c) => c.mjmlSource));
  const byFile = new Map(checked.map((c, i) => [c.expanded.file, outcomes[i]!]));
  return buildRenderer(plan, (file, c) => mjmlHtml(byFile.get(file)!, c.expanded.body, file));
}

function unusedOverrides(dir: string | null, used: ReadonlySet<string>): string[] {
  if (!dir) return [];
  let entries: string[];
  try {
    entries = readdirSync(dir, { recursive: true, encoding: 'utf8' });
  } catch {
    return [];
  }
  return entries
    .filter((rel) => /\.(mjml|hbs)$/.test(rel))
    .map((rel) => path.join(dir, rel))
    .filter((file) => !used.has(file))
    .sort();
}

/**
 * The slow path, kept only so the benchmark can show what compiling once saves: reads the
 * template, runs Handlebars on the MJML source and then MJML on the result — for every mail.
 * The output is equivalent to `createRenderer(opts).render(kind, data)`.
 */
export function renderMjmlPerMail<K extends MailKind>(opts: RendererOptions, kind: K, data: MailDataByKind[K]): RenderedMail {
  const roots = rootsOf(opts);
  const found = locate(roots, kind, data.locale);
  if (!found) throw templateError(path.join(roots.bundled, `en/${kind}.mjml`), null, `missing: no template for "${kind}"`);
  const env = createHandlebarsEnv();
  const t = loadExpanded(roots, found.locale, found.file, new Map());
  const subject = cleanSubject(compilePart(env, t.subject, t.file, false)(data));
  const mjml = compilePart(env, t.body, t.file, true)({ ...data, mailSubject: subject });
  const html = runMjml(mjml, [], t.file);
  return { subject, html, text: cleanText(compilePart(env, t.text, t.file, false)(data)) };
}

export { mjmlRunCount } from './compile.js';
