/**
 * Turns one template file into three compiled Handlebars functions (subject, html, text).
 *
 * Order matters: partials are expanded first, the expanded MJML is checked by Handlebars'
 * compiler (so a syntax error is reported at the template's own line), then MJML runs ONCE and
 * its HTML output — with the `{{…}}` still in it — is compiled by Handlebars. Sending a mail
 * then costs one Handlebars call per part; MJML never runs per mail.
 */
import mjml2html from 'mjml';
import type Handlebars from 'handlebars';
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
 * The single place MJML is called. `strict` makes MJML throw on any validation error; includes are
 * ignored so a template can never read files outside the templates directories; minify and
 * beautify stay off because both rewrite markup and could damage the `{{…}}` expressions; `fonts`
 * is emptied so a font stack naming e.g. Roboto does not make every mail load Google Fonts.
 */
export function runMjml(source: string, lines: readonly SourceLine[], file: string): string {
  mjmlRuns += 1;
  const at = (line: number | undefined): SourceLine | undefined => (line === undefined ? undefined : lines[line - 1]);
  let result: ReturnType<typeof mjml2html>;
  try {
    result = mjml2html(source, {
      validationLevel: 'strict',
      minify: false,
      beautify: false,
      keepComments: false,
      ignoreIncludes: true,
      fonts: {},
    });
  } catch (err) {
    const issues = (err as { errors?: MjmlIssue[] }).errors ?? [];
    const first = issues[0];
    const origin = at(first?.line);
    const detail = issues.length > 0 ? issues.map((i) => i.message ?? '').join('; ') : (err as Error).message;
    throw templateError(origin?.file ?? file, origin?.line ?? null, `invalid MJML: ${detail}`, err);
  }
  const firstIssue = result.errors[0];
  if (firstIssue) {
    const origin = at(firstIssue.line);
    throw templateError(origin?.file ?? file, origin?.line ?? null, `invalid MJML: ${firstIssue.message}`);
  }
  return squeezeIndentation(result.html);
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

export function compileTemplate(env: Env, t: ExpandedTemplate): CompiledTemplate {
  const subject = compilePart(env, t.subject, t.file, false);
  const text = compilePart(env, t.text, t.file, false);
  // Check the Handlebars in the MJML source first: after MJML, line numbers mean nothing to an admin.
  const mjmlSource = joinLines(t.body);
  compilePart(env, t.body, t.file, true, mjmlSource);
  const html = runMjml(mjmlSource, t.body, t.file);
  // MJML's output has no line map back to the template; errors name the template file only.
  let htmlPart: CompiledPart;
  try {
    htmlPart = compilePart(env, [], t.file, true, html);
  } catch (err) {
    throw templateError(t.file, null, `Handlebars expressions did not survive MJML (keep block helpers inside <mj-raw>, <mj-text> or <mj-table>): ${(err as Error).message}`, err);
  }
  return { file: t.file, subject, html: htmlPart, text };
}
