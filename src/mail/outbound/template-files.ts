/**
 * Finding and reading template files. A template is `<locale>/<kind>.mjml`: YAML front matter
 * with `subject:` and `text:` (both Handlebars), then the MJML body. Every line read keeps the
 * file and line it came from, so an error found after partials were expanded — by Handlebars or
 * by MJML — can still name the line an admin has to fix.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument, isScalar, isMap, type Scalar } from 'yaml';
import { MailgrantError } from '../../shared/errors.js';

export interface SourceLine {
  text: string;
  file: string;
  line: number;
}

export interface TemplateSource {
  file: string;
  subject: SourceLine[];
  text: SourceLine[];
  body: SourceLine[];
}

/** Where templates come from: the bundled set, and optionally an admin's TEMPLATES_DIR on top. */
export interface TemplateRoots {
  bundled: string;
  overrides: string | null;
}

export function templateError(file: string, line: number | null, detail: string, cause?: unknown): MailgrantError {
  const where = line === null ? file : `${file}:${line}`;
  return new MailgrantError('template_invalid', `Template ${where}: ${detail}`, {
    cause,
    details: { file, line },
  });
}

/** The file for a relative path, an override winning over the bundled file at the same path. */
export function resolveFile(roots: TemplateRoots, relative: string): string | null {
  for (const root of [roots.overrides, roots.bundled]) {
    if (!root) continue;
    const candidate = path.join(root, relative);
    if (existsSync(candidate)) return candidate;
  }
  return null;
}

function readText(file: string): string {
  try {
    // Strip a BOM and normalise line endings so line numbers match what editors show.
    return readFileSync(file, 'utf8').replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  } catch (err) {
    throw templateError(file, null, `cannot be read (${(err as Error).message})`, err);
  }
}

export function toLines(text: string, file: string, firstLine: number): SourceLine[] {
  return text.split('\n').map((t, i) => ({ text: t, file, line: firstLine + i }));
}

export function joinLines(lines: readonly SourceLine[]): string {
  return lines.map((l) => l.text).join('\n');
}

/** Reads a partial: plain Handlebars/MJML text, no front matter. */
export function loadPartialFile(file: string): SourceLine[] {
  return toLines(readText(file).replace(/\n$/, ''), file, 1);
}

/** First file line holding a scalar's content: block scalars (`|`) start on the line after the key. */
function scalarFirstLine(node: Scalar, counter: LineCounter, frontMatterStart: number): number {
  const start = node.range?.[0] ?? 0;
  const yamlLine = counter.linePos(start).line;
  const isBlock = node.type === 'BLOCK_LITERAL' || node.type === 'BLOCK_FOLDED';
  return frontMatterStart + yamlLine - 1 + (isBlock ? 1 : 0);
}

export function loadTemplateFile(file: string): TemplateSource {
  const raw = readText(file);
  const lines = raw.split('\n');
  if (lines[0]?.trim() !== '---') {
    throw templateError(file, 1, 'must start with "---" front matter holding "subject:" and "text:"');
  }
  // Exact match, so an indented "---" inside a block scalar does not end the front matter.
  const end = lines.findIndex((l, i) => i > 0 && l.trimEnd() === '---');
  if (end < 0) throw templateError(file, 1, 'front matter is not closed by a "---" line');

  const counter = new LineCounter();
  const doc = parseDocument(lines.slice(1, end).join('\n'), { lineCounter: counter, prettyErrors: false });
  const yamlError = doc.errors[0];
  if (yamlError) {
    const at = yamlError.linePos?.[0]?.line;
    throw templateError(file, at === undefined ? 2 : at + 1, `front matter is not valid YAML: ${yamlError.message}`, yamlError);
  }
  if (!isMap(doc.contents)) throw templateError(file, 2, 'front matter must be a mapping with "subject:" and "text:"');

  const fields: Partial<Record<'subject' | 'text', SourceLine[]>> = {};
  for (const pair of doc.contents.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    const keyLine = isScalar(pair.key) ? counter.linePos(pair.key.range?.[0] ?? 0).line + 1 : 2;
    // Unknown keys are refused: a misspelt "subjet:" must not silently fall back to nothing.
    if (key !== 'subject' && key !== 'text') throw templateError(file, keyLine, `unknown front matter key "${key}"`);
    if (!isScalar(pair.value) || typeof pair.value.value !== 'string') {
      throw templateError(file, keyLine, `"${key}" must be a string`);
    }
    fields[key] = toLines(pair.value.value, file, scalarFirstLine(pair.value, counter, 2));
  }
  if (!fields.subject) throw templateError(file, 2, 'front matter has no "subject:"');
  if (!fields.text) throw templateError(file, 2, 'front matter has no "text:"');

  return { file, subject: fields.subject, text: fields.text, body: toLines(lines.slice(end + 1).join('\n'), file, end + 2) };
}
