/**
 * Turns one template file into three compiled Handlebars functions (subject, html, text).
 *
 * Order matters: partials are expanded first, the expanded MJML is checked by Handlebars'
 * compiler (so a syntax error is reported at the template's own line), then MJML runs ONCE and
 * its HTML output — with the `{{…}}` still in it — is compiled by Handlebars. Sending a mail
 * then costs one Handlebars call per part; MJML never runs per mail.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type Handlebars from 'handlebars';
import type mjml2html from 'mjml';
import type { Locale } from '../../shared/locale.js';
import { KNOWN_HELPERS } from './helpers.js';
import { expandPartials } from './partials.js';
import { joinLines, loadTemplateFile, templateError, type SourceLine, type TemplateRoots } from './template-files.js';

type Env = typeof Handlebars;
export type CompiledPart = (data: unknown) => string;

export interface CompiledTemplate {
  file: string;
  subject: CompiledPart;
  html: CompiledPart;
  text: CompiledPart;
}

let mjmlRuns = 0;

/** How many times MJML has run in this process; tests use it to prove rendering never calls MJML. */
export function mjmlRunCount(): number {
  return mjmlRuns;
}

interface MjmlIssue {
  line?: number;
  message?: string;
}

/**
 * `strict` makes MJML throw on any validation error; includes are ignored so a template can
 * never read files outside the templates directories; minify and beautify stay off because both
 * rewrite markup and could damage the `{{…}}` expressions; `fonts` is emptied so a font stack
 * naming e.g. Roboto does not make every mail load Google Fonts.
 */
const MJML_OPTIONS = { validationLevel: 'strict', minify: false, beautify: false, keepComments: false, ignoreIncludes: true, fonts: {} } as const;

const require = createRequire(import.meta.url);
/** Loaded on first use: the daemon compiles off its main thread and never loads MJML itself. */
const loadMjml = (): typeof mjml2html => require('mjml') as typeof mjml2html;

/** What one MJML run gave: its HTML and validation issues, or what it threw. Plain data, so a worker can send it. */
export interface MjmlOutcome {
  html?: string;
  errors?: MjmlIssue[];
  thrown?: { message: string; errors: MjmlIssue[] };
}

/** The HTML of an MJML run, or the first problem as a template error naming the file and line. */
function htmlOf(outcome: MjmlOutcome, lines: readonly SourceLine[], file: string, cause?: unknown): string {
  const at = (line: number | undefined): SourceLine | undefined => (line === undefined ? undefined : lines[line - 1]);
  if (outcome.thrown) {
    const issues = outcome.thrown.errors;
    const origin = at(issues[0]?.line);
    const detail = issues.length > 0 ? issues.map((i) => i.message ?? '').join('; ') : outcome.thrown.message;
    throw templateError(origin?.file ?? file, origin?.line ?? null, `invalid MJML: ${detail}`, cause);
  }
  const firstIssue = outcome.errors?.[0];
  if (firstIssue) {
    const origin = at(firstIssue.line);
    throw templateError(origin?.file ?? file, origin?.line ?? null, `invalid MJML: ${firstIssue.message}`);
  }
  return squeezeIndentation(outcome.html ?? '');
}

/** The single place MJML runs in this thread (see MJML_OPTIONS). */
export function runMjml(source: string, lines: readonly SourceLine[], file: string): string {
  mjmlRuns += 1;
  let outcome: MjmlOutcome;
  try {
    const result = loadMjml()(source, MJML_OPTIONS);
    outcome = { html: result.html, errors: result.errors };
  } catch (err) {
    outcome = { thrown: { message: (err as Error).message, errors: (err as { errors?: MjmlIssue[] }).errors ?? [] } };
    return htmlOf(outcome, lines, file, err);
  }
  return htmlOf(outcome, lines, file);
}

/*
 * The same runs in a worker thread, which exits when done. MJML and what it loads (juice,
 * cheerio, js-beautify, …) and the garbage of compiling ~30 templates would otherwise stay in
 * the daemon's heap for its whole life: about 30 MB resident of a process meant to fit a small
 * container. The worker gets the module's resolved path, so it loads the very same MJML.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const mjml = require(workerData.mjmlPath);
parentPort.postMessage(workerData.sources.map((source) => {
  try {
    const r = mjml(source, workerData.options);
    return { html: r.html, errors: r.errors.map((e) => ({ line: e.line, message: e.message })) };
  } catch (err) {
    return { thrown: { message: String(err && err.message), errors: ((err && err.errors) || []).map((e) => ({ line: e.line, message: e.message })) } };
  }
}));
`;

/** Runs MJML on each source in a worker thread; the outcomes come back in the same order. */
export async function runMjmlOffThread(sources: readonly string[]): Promise<MjmlOutcome[]> {
  if (sources.length === 0) return [];
  mjmlRuns += sources.length;
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { mjmlPath: require.resolve('mjml'), sources, options: MJML_OPTIONS } });
  try {
    return await new Promise<MjmlOutcome[]>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the MJML worker exited with code ${code} before answering`)));
    });
  } finally {
    await worker.terminate();
  }
}

/** The HTML of an off-thread MJML run (see `runMjmlOffThread`), checked as `runMjml` checks it. */
export function mjmlHtml(outcome: MjmlOutcome, lines: readonly SourceLine[], file: string): string {
  return htmlOf(outcome, lines, file);
}

/** Markup where leading spaces on a line are shown as they are. */
const PRESERVES_SPACES = /<(pre|textarea)\b|white-space\s*:\s*(pre|pre-wrap|break-spaces)(?![-\w])/i;

/**
 * MJML indents its output for reading: a quarter of every mail's bytes, paid for again by the
 * quoted-printable encoding, the outbox row and the SMTP transfer of each mail. A browser
 * collapses that indentation to the one space the line break already gives (`pre-line` keeps
 * the line break and collapses the spaces too), so leading spaces and blank lines go. A template
 * with preformatted text anywhere is left exactly as MJML wrote it. Runs at compile time, on the
 * template; the data put in by Handlebars at render time is never touched.
 */
export function squeezeIndentation(html: string): string {
  if (PRESERVES_SPACES.test(html)) return html;
  return html.replace(/\n[ \t]+/g, '\n').replace(/\n{2,}/g, '\n');
}

function handlebarsOptions(escapeHtml: boolean): CompileOptions {
  return { strict: true, knownHelpers: { ...KNOWN_HELPERS }, knownHelpersOnly: true, noEscape: !escapeHtml };
}

/** Handlebars reports a line either as `lineNumber` or only inside "Parse error on line N". */
function handlebarsLine(err: unknown): number | undefined {
  const e = err as { lineNumber?: unknown; message?: unknown };
  if (typeof e.lineNumber === 'number') return e.lineNumber;
  const m = /on line (\d+)/.exec(String(e.message ?? ''));
  return m ? Number(m[1]) : undefined;
}

/** Handlebars' own " - 3:4" position is relative to the expanded text; ours replaces it. */
function firstLineOf(message: string): string {
  return (message.split('\n')[0] ?? message).replace(/ - \d+:\d+$/, '');
}

/**
 * Compiles eagerly: `Handlebars.compile` defers its work to the first call, so `precompile` runs
 * first to surface syntax errors and unknown helpers now, mapped back to the file and line.
 */
export function compilePart(env: Env, lines: readonly SourceLine[], file: string, escapeHtml: boolean, source = joinLines(lines)): CompiledPart {
  const options = handlebarsOptions(escapeHtml);
  try {
    env.precompile(source, options);
  } catch (err) {
    const line = handlebarsLine(err);
    const origin = line === undefined ? undefined : lines[line - 1];
    throw templateError(origin?.file ?? file, origin?.line ?? null, `Handlebars error: ${firstLineOf((err as Error).message)}`, err);
  }
  const template = env.compile(source, options);
  return (data) => {
    try {
      return template(data);
    } catch (err) {
      // Strict mode throws on a missing field: either the data or the template is wrong; name both.
      const line = handlebarsLine(err);
      const origin = line === undefined ? undefined : lines[line - 1];
      throw templateError(origin?.file ?? file, origin?.line ?? null, `cannot render: ${firstLineOf((err as Error).message)}`, err);
    }
  };
}

export interface ExpandedTemplate {
  file: string;
  subject: SourceLine[];
  text: SourceLine[];
  body: SourceLine[];
}

/** Reads a template file and expands its partials (MJML partials in the body, .hbs ones elsewhere). */
export function loadExpanded(roots: TemplateRoots, locale: Locale, file: string, cache: Map<string, SourceLine[]>): ExpandedTemplate {
  const source = loadTemplateFile(file);
  const hbs = { roots, locale, ext: 'hbs' as const, cache };
  return {
    file,
    subject: expandPartials(source.subject, hbs),
    text: expandPartials(source.text, hbs),
    body: expandPartials(source.body, { ...hbs, ext: 'mjml' }),
  };
}

/** The Handlebars parts of a template, checked; the HTML part waits for MJML's output. */
export interface CheckedTemplate {
  expanded: ExpandedTemplate;
  subject: CompiledPart;
  text: CompiledPart;
  /** The MJML source with its partials expanded, ready for MJML. */
  mjmlSource: string;
}

export function checkTemplate(env: Env, t: ExpandedTemplate): CheckedTemplate {
  const subject = compilePart(env, t.subject, t.file, false);
  const text = compilePart(env, t.text, t.file, false);
  // Check the Handlebars in the MJML source first: after MJML, line numbers mean nothing to an admin.
  const mjmlSource = joinLines(t.body);
  compilePart(env, t.body, t.file, true, mjmlSource);
  return { expanded: t, subject, text, mjmlSource };
}

/** Completes a checked template with MJML's HTML output (`runMjml`, or `mjmlHtml` after a worker run). */
export function finishTemplate(env: Env, c: CheckedTemplate, html: string): CompiledTemplate {
  const file = c.expanded.file;
  // MJML's output has no line map back to the template; errors name the template file only.
  let htmlPart: CompiledPart;
  try {
    htmlPart = compilePart(env, [], file, true, html);
  } catch (err) {
    throw templateError(file, null, `Handlebars expressions did not survive MJML (keep block helpers inside <mj-raw>, <mj-text> or <mj-table>): ${(err as Error).message}`, err);
  }
  return { file, subject: c.subject, html: htmlPart, text: c.text };
}

export function compileTemplate(env: Env, t: ExpandedTemplate): CompiledTemplate {
  const c = checkTemplate(env, t);
  return finishTemplate(env, c, runMjml(c.mjmlSource, t.body, t.file));
}
