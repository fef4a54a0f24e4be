/**
 * Partials are expanded textually, before MJML runs, because MJML must see the whole document
 * (a partial usually holds complete <mj-section>s) and Handlebars only ever sees MJML's output.
 * Only the plain form `{{> name}}` is supported: no parameters, no dynamic names, no partial
 * blocks — an expanded partial simply reads the same data as the text around it.
 *
 * Lookup, most specific first, each path trying TEMPLATES_DIR before the bundled directory:
 *   <locale>/partials/<name>.<ext>   (wording in that language)
 *   partials/<name>.<ext>            (shared by every language, e.g. the <mj-head>)
 * `.mjml` partials are used in MJML bodies, `.hbs` partials in subjects and plain-text parts.
 */
import type { Locale } from '../../shared/locale.js';
import { loadPartialFile, resolveFile, templateError, type SourceLine, type TemplateRoots } from './template-files.js';

export type PartialKind = 'mjml' | 'hbs';

export interface PartialContext {
  roots: TemplateRoots;
  locale: Locale;
  ext: PartialKind;
  /** Shared between all templates of one renderer so each partial file is read once. */
  cache: Map<string, SourceLine[]>;
}

const PARTIAL = /\{\{>\s*([A-Za-z0-9_-]+)\s*\}\}/;
const ANY_PARTIAL = /\{\{~?\s*#?\s*>/;
const MAX_DEPTH = 8;

function findPartial(ctx: PartialContext, name: string, at: SourceLine): SourceLine[] {
  for (const relative of [`${ctx.locale}/partials/${name}.${ctx.ext}`, `partials/${name}.${ctx.ext}`]) {
    const file = resolveFile(ctx.roots, relative);
    if (!file) continue;
    let lines = ctx.cache.get(file);
    if (!lines) {
      lines = loadPartialFile(file);
      ctx.cache.set(file, lines);
    }
    return lines;
  }
  throw templateError(at.file, at.line, `partial "${name}" not found (looked for ${ctx.locale}/partials/${name}.${ctx.ext} and partials/${name}.${ctx.ext})`);
}

export function expandPartials(lines: readonly SourceLine[], ctx: PartialContext, stack: string[] = []): SourceLine[] {
  const out: SourceLine[] = [];
  for (const line of lines) expandLine(line, ctx, stack, out);
  return out;
}

function expandLine(line: SourceLine, ctx: PartialContext, stack: string[], out: SourceLine[]): void {
  const match = PARTIAL.exec(line.text);
  if (!match) {
    if (ANY_PARTIAL.test(line.text)) {
      throw templateError(line.file, line.line, 'only plain "{{> name}}" partials are supported (no parameters, blocks or whitespace control)');
    }
    out.push(line);
    return;
  }
  const name = match[1] ?? '';
  if (stack.includes(name) || stack.length >= MAX_DEPTH) {
    throw templateError(line.file, line.line, `partial "${name}" includes itself (${[...stack, name].join(' → ')})`);
  }
  const body = expandPartials(findPartial(ctx, name, line), ctx, [...stack, name]);
  const before = line.text.slice(0, match.index);
  const after = line.text.slice(match.index + match[0].length);

  if (before.trim() === '' && after.trim() === '') {
    // A partial on its own line takes that line's indentation, which keeps text parts tidy.
    for (const l of body) out.push({ ...l, text: l.text === '' ? '' : before + l.text });
    return;
  }
  if (body.length === 1 && body[0]) {
    // One-line partial in the middle of a line: splice it in and look for more tags on the line.
    expandLine({ ...line, text: before + body[0].text + after }, ctx, stack, out);
    return;
  }
  // A multi-line partial inside a line: the surrounding text becomes its own lines.
  if (before.trim() !== '') out.push({ ...line, text: before });
  out.push(...body);
  if (after.trim() !== '') expandLine({ ...line, text: after }, ctx, stack, out);
}
