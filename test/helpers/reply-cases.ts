/**
 * Shared by the extract-reply tests and bench/replies.ts: the discourse reply
 * corpus and how a result is judged, the own .eml fixtures, and the
 * adversarial inputs for the time bound.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { simpleParser } from 'mailparser';
import type { ReplyInput } from '../../src/mail/inbound/extract-reply.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
export const CORPUS_DIR = join(FIXTURES, 'reply-corpus');
export const REPLIES_DIR = join(FIXTURES, 'replies');

// ── Corpus ─────────────────────────────────────────────────────────────────

export interface CorpusCase {
  readonly name: string;
  readonly email: string;
  readonly trimmed: string;
  readonly elided: string;
}

export function loadCorpus(): CorpusCase[] {
  const read = (folder: string, name: string): string => readFileSync(join(CORPUS_DIR, folder, name), 'utf8');
  return readdirSync(join(CORPUS_DIR, 'emails'))
    .filter((file) => file.endsWith('.txt'))
    .sort()
    .map((file) => ({
      name: file.replace(/\.txt$/, ''),
      email: read('emails', file),
      trimmed: read('trimmed', file),
      elided: read('elided', file),
    }));
}

export function normaliseSpace(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

export function firstNonEmptyLine(s: string): string {
  for (const line of s.split(/\r\n|\r|\n/)) {
    const normalised = normaliseSpace(line);
    if (normalised !== '') return normalised;
  }
  return '';
}

/**
 * Mailgrant's one deliberate difference from the corpus: a mail that is
 * nothing but a forwarded message (its first line is a forward separator, and
 * that is where the corpus's elided part starts) keeps NOTHING, because a
 * command inside a forwarded message is not the sender's command. The corpus
 * keeps the forwarded body there.
 */
export function isForwardOnly(c: CorpusCase): boolean {
  const first = firstNonEmptyLine(c.email);
  return /forward/i.test(first) && first === firstNonEmptyLine(c.elided);
}

export function expectedFirstLine(c: CorpusCase): string {
  return isForwardOnly(c) ? '' : firstNonEmptyLine(c.trimmed);
}

/** Lines of the elided part distinctive enough to be looked for (≥ 12 chars, not in the trimmed part). */
export function distinctiveElidedLines(c: CorpusCase): string[] {
  const trimmed = normaliseSpace(c.trimmed);
  return c.elided
    .split(/\r\n|\r|\n/)
    .map(normaliseSpace)
    .filter((line) => line.length >= 12 && !trimmed.includes(line));
}

export interface CorpusVerdict {
  readonly firstLineOk: boolean;
  readonly leaks: string[];
}

export function judgeCorpus(c: CorpusCase, kept: string): CorpusVerdict {
  const keptNormalised = normaliseSpace(kept);
  return {
    firstLineOk: firstNonEmptyLine(kept) === expectedFirstLine(c),
    leaks: distinctiveElidedLines(c).filter((line) => keptNormalised.includes(line)),
  };
}

// ── Own .eml fixtures ──────────────────────────────────────────────────────

export interface EmlFixture {
  readonly name: string;
  /** Family: the name up to the client, e.g. "zh-tw-outlook", "gmail", "thanks-only". */
  readonly family: string;
  readonly raw: Buffer;
  readonly expected: string;
}

export function loadEmlFixtures(): EmlFixture[] {
  return readdirSync(REPLIES_DIR)
    .filter((file) => file.endsWith('.eml'))
    .sort()
    .map((file) => {
      const name = file.replace(/\.eml$/, '');
      return {
        name,
        family: familyOf(name),
        raw: readFileSync(join(REPLIES_DIR, file)),
        expected: readFileSync(join(REPLIES_DIR, `${name}.expected.txt`), 'utf8').trim(),
      };
    });
}

/** "zh-tw-outlook-big5" → "zh-tw", "fr-outlook-noaddr" → "fr", "gmail-html-only" → "gmail". */
export function familyOf(name: string): string {
  const parts = name.split('-');
  if (/^[a-z]{2}$/.test(parts[0] ?? '') && /^[a-z]{2}$/.test(parts[1] ?? '')) return `${parts[0]}-${parts[1]}`;
  if (parts[0] === 'thanks' || parts[0] === 'empty') return 'thanks/empty';
  return parts[0] ?? name;
}

export interface ParsedFixture {
  readonly input: ReplyInput;
  /** The raw message had a text/plain part of its own (not one mailparser made from the HTML). */
  readonly hasTextPart: boolean;
  readonly text: string;
  readonly html: string | null;
}

export async function parseFixture(raw: Buffer): Promise<ParsedFixture> {
  const parsed = await simpleParser(raw);
  const html = typeof parsed.html === 'string' ? parsed.html : null;
  const text = parsed.text ?? '';
  return {
    input: { text, html },
    hasTextPart: /content-type:\s*text\/plain/i.test(raw.toString('latin1')),
    text,
    html,
  };
}

/** Words of a Mailgrant command, in the languages the fixtures use. */
export const COMMAND_WORDS = /approve|deny|核准|拒絕|批准|拒绝|approuver|refuser/i;

// ── Adversarial inputs ─────────────────────────────────────────────────────

export interface AdversarialCase {
  readonly name: string;
  readonly input: ReplyInput;
}

const MB = 1024 * 1024;

function fill(unit: string, size = MB): string {
  return unit.repeat(Math.max(1, Math.ceil(size / unit.length))).slice(0, size);
}

/** 1 MB bodies built from 100 KB adversarial lines (and from many short near-miss lines). */
export function adversarialCases(): AdversarialCase[] {
  const hundredK = 100 * 1024;
  const longLine = (head: string, body: string): string => `${head}${body.repeat(hundredK)}`.slice(0, hundredK) + '\n';
  const text = (name: string, body: string): AdversarialCase => ({ name, input: { text: `approve alice\n${body}` } });
  const html = (name: string, body: string): AdversarialCase => ({ name, input: { html: body, text: null } });
  return [
    text('text: "On " + a×100K', fill(longLine('On ', 'a'))),
    text('text: >×100K', fill(longLine('', '>'))),
    text('text: "From: " + space×100K', fill(longLine('From: ', ' '))),
    text('text: -×100K', fill(longLine('', '-'))),
    text('text: 寄件者：×25K', fill(longLine('', '寄件者：'))),
    text('text: _×100K', fill(longLine('', '_'))),
    text('text: short 寄件者： lines', fill('寄件者：Dana\n')),
    text('text: short From: lines', fill('From: a\n')),
    text('text: near-miss attributions', fill(`On 1 ${'x '.repeat(240)}wrote y:\n`)),
    text('text: wrapped near-misses', fill(`Dana 2026 <d@x> ${'y'.repeat(100)}:\n`)),
    text('text: "> " nesting', fill(`${'> '.repeat(200)}On 1 Jan 2026, a <a@b> wrote\n`)),
    text('text: header-like run', fill('From: a\nTo: b\nCc: c\n')),
    text('text: prose', fill('Please approve alice for 3 seats, budget code 2026-11.\n')),
    html('html: <div> nested 10,000 deep', `${'<div>'.repeat(10000)}approve alice${'</div>'.repeat(10000)}${fill('<p>text</p>', MB - 110000)}`),
    html('html: 10,000 unclosed <span> + stray </div>', `${'<span>'.repeat(10000)}approve${fill('</div>', MB - 60000)}`),
    html('html: <blockquote> nested 10,000 deep', `approve${'<blockquote>'.repeat(10000)}x${fill('</blockquote>', MB - 120000)}`),
    html('html: 100K attribute', `<div class="${'a'.repeat(hundredK)}">approve</div>${fill('<br>', MB - hundredK)}`),
    html('html: 100K text lines', `approve<br>${fill(longLine('On ', 'a').replace('\n', '<br>'))}`),
    html('html: border-top divs', fill('<div style="border-top:solid #E1E1E1 1.0pt">text</div>')),
  ];
}

export interface Timing {
  /** Wall-clock milliseconds. */
  readonly worstMs: number;
  readonly medianMs: number;
  /**
   * CPU milliseconds of this process (user + system). Unlike wall time it does
   * not grow when other processes share the two cores, so a time bound asserted
   * on it does not fail because a neighbour is busy; when the machine is idle
   * the two agree (the extraction is single-threaded).
   */
  readonly worstCpuMs: number;
  readonly medianCpuMs: number;
}

export function timeCase(run: () => void, repeats: number): Timing {
  for (let i = 0; i < 3; i++) run(); // warm-up (JIT)
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const startCpu = process.cpuUsage();
    const start = performance.now();
    run();
    wall.push(performance.now() - start);
    const used = process.cpuUsage(startCpu);
    cpu.push((used.user + used.system) / 1000);
  }
  const worst = (xs: number[]): number => Math.max(...xs);
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  return { worstMs: worst(wall), medianMs: median(wall), worstCpuMs: worst(cpu), medianCpuMs: median(cpu) };
}
