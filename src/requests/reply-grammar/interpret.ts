/**
 * The reply grammar's entry point. Pipeline: split the reply into lines → skip one greeting line
 * → tokenize the command line(s) against the lexicon and the people's names (tokenize.ts) →
 * read clauses (parse.ts) → resolve names (names.ts) → per-person decisions. Every doubt along
 * the way ends in `unclear` with a reason the caller can explain to the decider.
 */
import type { Locale } from '../../shared/locale.js';
import { detectLanguage } from './language.js';
import { buildNameIndex, isPersonToken, resolveRun, type NameIndex } from './names.js';
import { CommandParser, isCommandUnit, type CommentStart, type NameRun, type Verdict } from './parse.js';
import { tokenize, type Token } from './tokenize.js';

export type { Verdict } from './parse.js';
export { detectLanguage } from './language.js';

export interface RequestPerson {
  email: string;
  name?: string | null;
  pending: boolean;
}

export type UnclearReason =
  | { code: 'empty' }
  | { code: 'no_command'; text: string }
  | { code: 'negation'; phrase: string }
  | { code: 'unknown_name'; name: string }
  | { code: 'ambiguous_name'; name: string; matches: string[] }
  | { code: 'conflict'; email: string }
  | { code: 'nobody_pending' };

export type Interpretation =
  | { kind: 'decision'; decisions: { user: string; verdict: Verdict }[]; comment: string | null; language: Locale; text: string }
  | { kind: 'unclear'; decisions: []; reason: UnclearReason; language: Locale | null; text: string };

/** Only this much of a reply is searched for the command; the rest can only be comment. */
const WINDOW = 2000;
/** How much of the command line is echoed back in a no_command reason. */
const ECHO = 200;

interface Line {
  readonly text: string;
  readonly start: number;
}

function splitLines(text: string): Line[] {
  const lines: Line[] = [];
  let start = 0;
  while (start <= text.length) {
    const nl = text.indexOf('\n', start);
    const end = nl < 0 ? text.length : nl;
    lines.push({ text: text.slice(start, end).replace(/\r$/, ''), start });
    if (nl < 0) break;
    start = nl + 1;
  }
  return lines;
}

const isVerbToken = (t: Token): boolean => t.cls === 'approve' || t.cls === 'deny';

/** "Hi Dana," / "Bonjour," / "Dana 您好，": a greeting among the first two tokens and no verb. */
function isGreetingLine(toks: readonly Token[]): boolean {
  return toks.slice(0, 2).some((t) => t.cls === 'greeting') && !toks.some(isVerbToken);
}

/** "Hi Dana, approve alice": the command starts after the greeting's punctuation. */
function skipInlineGreeting(toks: readonly Token[]): number {
  const g = toks.slice(0, 2).findIndex((t) => t.cls === 'greeting');
  if (g < 0) return 0;
  for (let i = g + 1; i < Math.min(toks.length, g + 6); i++) {
    const t = toks[i]!;
    if (isVerbToken(t)) break;
    if (t.kind === 'punct' && t.cls !== 'question') return i + 1;
  }
  return g + 1;
}

/** Strips what introduced the comment ("because: …", "原因：…") from its start. */
function stripIntroducer(s: string): string {
  let i = 0;
  while (i < s.length && ' \t:：—–-,，、'.includes(s[i]!)) i++;
  return s.slice(i);
}

function unclear(reason: UnclearReason, text: string): Interpretation {
  return { kind: 'unclear', decisions: [], reason, language: text === '' ? null : detectLanguage(text), text };
}

const QUOTED = /^[ \t]{0,3}>/;

function dropQuotedLines(text: string): string {
  if (!text.includes('>')) return text;
  return text
    .split('\n')
    .filter((line) => !QUOTED.test(line))
    .join('\n');
}

/**
 * Interprets the decider's own words (quotes and signature already removed) as decisions for
 * the people on the request. Anything it is not sure about comes back as `unclear` with a reason,
 * never as a guess.
 */
export function interpretReply(text: string, people: readonly RequestPerson[]): Interpretation {
  // Quoted lines are never the decider's words, wherever they are: the extractor keeps a reply
  // that opens with "> " lines and no attribution, and the quoted shared-request mail says
  // "approve" and "deny" itself.
  const trimmed = dropQuotedLines(text).trim();
  if (trimmed === '') return unclear({ code: 'empty' }, '');
  const index = buildNameIndex(people);
  const opts = { hanNames: new Set(index.han.keys()) };
  const lines = splitLines(trimmed);
  const tok = (k: number): Token[] => {
    const line = lines[k]!;
    return tokenize(line.text.slice(0, Math.max(0, WINDOW - line.start)), opts);
  };
  const nextNonEmpty = (k: number): number => {
    for (let j = k; j < lines.length && lines[j]!.start < WINDOW; j++) if (lines[j]!.text.trim() !== '') return j;
    return -1;
  };

  let li = 0;
  let toks = tok(li);
  const afterGreeting = nextNonEmpty(1);
  if (isGreetingLine(toks) && afterGreeting > 0) {
    li = afterGreeting;
    toks = tok(li);
  }
  const commandLine = lines[li]!.text.trim();
  const isPerson = (t: Token): boolean => isPersonToken(index, t);
  const parser = new CommandParser(isPerson);

  // Command lines: the first one, then following lines as long as they read as commands.
  let start: CommentStart | null = parser.feedLine(toks, lines[li]!.text, skipInlineGreeting(toks));
  let commentLine = li;
  let lastCommand = li;
  // (Only after a first line that held a command: "Thanks!\napprove" is not a command line.)
  for (let k = nextNonEmpty(li + 1); start === null && parser.verbCount > 0 && k > 0; k = nextNonEmpty(k + 1)) {
    const next = tok(k);
    if (!isCommandUnit(next, 0, isPerson)) break;
    start = parser.feedLine(next, lines[k]!.text);
    lastCommand = commentLine = k;
  }
  if (start === null && lines[lastCommand]!.start + lines[lastCommand]!.text.length > WINDOW) {
    parser.failed = true; // the command runs past what we read: do not act on half of it
  }
  parser.finish();

  // Comment: the rest of the line it starts on, then every following line.
  const pieces: string[] = [];
  if (start) {
    const rest = lines[commentLine]!.text.slice(start.offset);
    pieces.push(start.viaBecause ? stripIntroducer(rest.trimStart()) : rest);
    // A decision word in a trailing sentence ("Approved. Bob is denied.") is not a comment.
    if (!start.viaBecause && tok(commentLine).slice(start.tokenIndex).some(isVerbToken)) parser.failed = true;
  }
  for (let k = lastCommand + 1; k < lines.length; k++) {
    pieces.push(lines[k]!.text);
    if (lines[k]!.start < WINDOW && tok(k).some(isVerbToken)) parser.failed = true;
  }
  const comment = pieces.map((p) => p.trim()).filter((p) => p !== '').join('\n') || null;

  if (parser.verbCount === 0) return unclear({ code: 'no_command', text: commandLine.slice(0, ECHO) }, trimmed);
  if (parser.negation !== null) return unclear({ code: 'negation', phrase: parser.negation }, trimmed);
  if (parser.failed) return unclear({ code: 'no_command', text: commandLine.slice(0, ECHO) }, trimmed);
  return decide(parser, index, trimmed, comment);
}

function decide(parser: CommandParser, index: NameIndex, text: string, comment: string | null): Interpretation {
  const explicit = new Map<number, Set<Verdict>>();
  const defaults = new Set<Verdict>();
  // The first name problem in reading order is reported; later ones would only repeat the question.
  const nameErrors: UnclearReason[] = [];
  const mark = (runs: readonly NameRun[], verdict: Verdict): void => {
    for (const run of runs) {
      for (const p of resolveRun(index, run.tokens, run.line)) {
        if (p.kind === 'unknown') nameErrors.push({ code: 'unknown_name', name: p.text });
        else if (p.kind === 'ambiguous') {
          nameErrors.push({ code: 'ambiguous_name', name: p.text, matches: p.people.map((i) => index.people[i]!.email) });
        } else {
          const set = explicit.get(p.person) ?? new Set<Verdict>();
          set.add(verdict);
          explicit.set(p.person, set);
        }
      }
    }
  };
  for (const c of parser.clauses) {
    mark(c.names, c.verdict);
    mark(c.except, c.verdict === 'approve' ? 'deny' : 'approve');
    // No names, "all", or "all except …": the verdict is the default for everyone pending.
    if (c.all || c.names.length === 0) defaults.add(c.verdict);
  }
  const nameError = nameErrors[0];
  if (nameError) return unclear(nameError, text);

  const decisions: { user: string; verdict: Verdict }[] = [];
  for (const [i, person] of index.people.entries()) {
    const mine = explicit.get(i);
    if (mine && mine.size > 1) return unclear({ code: 'conflict', email: person.email }, text);
    let verdict = mine ? [...mine][0] : undefined;
    if (!verdict && person.pending && defaults.size > 0) {
      // "approve all, deny all": everyone left over would get both verdicts.
      if (defaults.size > 1) return unclear({ code: 'conflict', email: person.email }, text);
      verdict = [...defaults][0];
    }
    if (verdict) decisions.push({ user: person.email, verdict });
  }
  if (decisions.length === 0) return unclear({ code: 'nobody_pending' }, text);
  return { kind: 'decision', decisions, comment, language: parser.language(), text };
}
