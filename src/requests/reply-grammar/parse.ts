import type { Locale } from '../../shared/locale.js';
import { tokenLanguage, type Token, type TokenClass } from './tokenize.js';

export type Verdict = 'approve' | 'deny';

/** Name tokens written together, without a separator ("Alice Wong"), with their line for quoting. */
export interface NameRun {
  readonly tokens: readonly Token[];
  readonly line: string;
}

/** One verb with what it applies to. A clause without names (or with "all"/"except") covers everyone pending. */
export interface Clause {
  readonly verdict: Verdict;
  all: boolean;
  readonly names: NameRun[];
  /** People excluded by "except"; they get the opposite verdict. */
  readonly except: NameRun[];
  exceptWord: boolean;
  /** Names stood right before this verb ("alice, bob denied"): fine only if the verb has its own object. */
  readonly namesJustBefore: boolean;
}

/** Where the comment starts: after a "because"/colon, or at a sentence that is not a command. */
export interface CommentStart {
  readonly offset: number;
  readonly tokenIndex: number;
  readonly viaBecause: boolean;
}

/** Words that may stand between the start of a clause and its verb without changing it. */
const BEFORE_VERB: ReadonlySet<TokenClass> = new Set(['polite', 'subject', 'aux', 'filler']);

function isVerb(t: Token | undefined): boolean {
  return t?.cls === 'approve' || t?.cls === 'deny';
}

/** Index of the next token not in `skip`, or -1. */
function nextSignificant(toks: readonly Token[], i: number, skip: ReadonlySet<TokenClass>): number {
  for (let j = i + 1; j < toks.length; j++) {
    const c = toks[j]!.cls;
    if (c === null || !skip.has(c)) return j;
  }
  return -1;
}

const BEFORE_VERB_OR_ALL: ReadonlySet<TokenClass> = new Set([...BEFORE_VERB, 'all']);
const LEADING: ReadonlySet<TokenClass> = new Set([...BEFORE_VERB, 'and', 'greeting']);

/**
 * Does the sentence starting at `from` read as a command? It must open with a verb, an "except",
 * "all" followed by a verb ("All the best" is a sign-off, "All denied" is not), or a negation that
 * is about the decision — with a verb, a person or "all" in it ("Not bob." yes, "No rush." no).
 */
export function isCommandUnit(toks: readonly Token[], from: number, isPerson: (t: Token) => boolean): boolean {
  const j = nextSignificant(toks, from - 1, LEADING);
  const t = toks[j];
  if (!t) return false;
  if (isVerb(t) || t.cls === 'except') return true;
  if (t.cls !== 'all' && t.cls !== 'neg') return false;
  for (let k = j + 1; k < toks.length; k++) {
    const u = toks[k]!;
    if (u.cls === 'stop' || u.cls === 'question') return false;
    if (isVerb(u)) return true;
    if (t.cls === 'neg' && (u.cls === 'all' || u.cls === 'except' || isPerson(u))) return true;
  }
  return false;
}

interface Prefix {
  all: boolean;
  exceptMode: boolean;
  exceptWord: boolean;
  readonly except: NameRun[];
  /** Unknown words touch the coming verb ("Looks good approve"): not a clean command. */
  junk: boolean;
}

const freshPrefix = (): Prefix => ({ all: false, exceptMode: false, exceptWord: false, except: [], junk: false });

/**
 * Reads command sentences token by token. It never guesses: any structure it does not know sets
 * `failed` (→ unclear no_command), and any negation is remembered (→ unclear negation).
 */
export class CommandParser {
  readonly clauses: Clause[] = [];
  failed = false;
  negation: string | null = null;
  verbCount = 0;
  private readonly lexTokens: Token[] = [];
  private cur: Clause | null = null;
  private mode: 'obj' | 'except' | 'closed' = 'obj';
  private run: Token[] = [];
  private line = '';
  private pre: Prefix = freshPrefix();

  /** `isPerson` says whether one token names someone on the request (used to refuse guesses). */
  constructor(private readonly isPerson: (t: Token) => boolean) {}

  /** Language of the command words: the first one that belongs to a single language. */
  language(): Locale {
    const ordered = [...this.lexTokens.filter((t) => isVerb(t)), ...this.lexTokens.filter((t) => !isVerb(t))];
    for (const t of ordered) {
      const lang = tokenLanguage(t);
      if (lang) return lang;
    }
    return 'en';
  }

  /** Feeds one command line from token `from`; returns where its comment starts, if it does. */
  feedLine(toks: readonly Token[], line: string, from = 0): CommentStart | null {
    this.line = line;
    for (let i = from; i < toks.length; i++) {
      const t = toks[i]!;
      if (t.entry) this.lexTokens.push(t);
      switch (t.cls) {
        case 'because':
          // A leading dash is a bullet, not a comment introducer.
          if (t.kind === 'punct' && t.text !== ':' && t.text !== '：' && i === from) break;
          this.endUnit();
          return { offset: t.end, tokenIndex: i + 1, viaBecause: true };
        case 'stop':
        case 'question': {
          // "Approve alice?" asks; it does not decide.
          if (t.cls === 'question' && (this.verbCount > 0 || this.cur)) this.failed = true;
          this.endUnit();
          let n = i + 1;
          while (toks[n]?.cls === 'stop' || toks[n]?.cls === 'question') n++;
          if (this.verbCount > 0 && n < toks.length && !isCommandUnit(toks, n, this.isPerson)) {
            return { offset: toks[n]!.start, tokenIndex: n, viaBecause: false };
          }
          i = n - 1;
          break;
        }
        case 'approve':
        case 'deny':
          this.verb(t.cls);
          break;
        case 'neg':
          this.closeRun();
          this.negation ??= negationPhrase(toks, i, line);
          break;
        case 'cond':
          this.failed = true;
          break;
        case 'and':
          this.separator();
          break;
        case 'all':
          this.all(isVerb(toks[nextSignificant(toks, i, BEFORE_VERB_OR_ALL)]));
          break;
        case 'except': {
          // "approve alice but deny bob": a "but" before a verb joins clauses.
          const next = toks[nextSignificant(toks, i, BEFORE_VERB)];
          if (t.fold === 'but' && (isVerb(next) || next?.cls === 'neg')) this.separator();
          else this.except();
          break;
        }
        case 'exceptEnd':
          this.exceptEnd();
          break;
        case 'polite':
        case 'filler':
          if (this.cur && this.isPerson(t)) this.name(t);
          else this.closeRun();
          break;
        case 'subject':
        case 'aux': {
          // "approve alice, I deny bob": skipped before a verb, otherwise it may be a name (Will).
          const next = toks[nextSignificant(toks, i, BEFORE_VERB)];
          if (!this.cur || isVerb(next) || next?.cls === 'neg') this.closeRun();
          else this.name(t);
          break;
        }
        default:
          this.name(t);
      }
    }
    this.endUnit();
    return null;
  }

  /** Ends the command part: a dangling "all"/"except" without its verb is not understood. */
  finish(): void {
    this.endUnit();
  }

  private verb(verdict: Verdict): void {
    const namesJustBefore = this.cur !== null && this.run.length > 0;
    this.closeRun();
    if (!this.cur && this.pre.junk) this.failed = true;
    if (this.cur) this.finalize(this.cur);
    this.cur = {
      verdict,
      all: this.pre.all,
      names: [],
      except: this.pre.except,
      exceptWord: this.pre.exceptWord,
      namesJustBefore,
    };
    this.pre = freshPrefix();
    this.mode = 'obj';
    this.verbCount++;
  }

  private name(t: Token): void {
    if (this.cur) {
      if (this.mode === 'closed') this.failed = true;
      else this.run.push(t);
    } else if (this.pre.exceptMode) {
      this.run.push(t);
    } else {
      // Chatter before the command is tolerated only if it names nobody ("Looks good, approve").
      if (this.isPerson(t)) this.failed = true;
      this.pre.junk = true;
    }
  }

  private separator(): void {
    this.closeRun();
    if (!this.cur) this.pre.junk = false;
  }

  private all(beforeVerb: boolean): void {
    this.closeRun();
    if (beforeVerb) {
      this.pre.all = true;
      this.pre.exceptMode = false;
    } else if (!this.cur || this.mode !== 'obj') {
      this.failed = true;
    } else {
      this.cur.all = true;
    }
  }

  private except(): void {
    this.closeRun();
    if (!this.cur) {
      this.pre.exceptMode = true;
      this.pre.exceptWord = true;
    } else if (this.mode !== 'obj') {
      this.failed = true;
    } else {
      this.mode = 'except';
      this.cur.exceptWord = true;
    }
  }

  private exceptEnd(): void {
    this.closeRun();
    if (!this.cur && this.pre.exceptMode) this.pre.exceptMode = false;
    else if (this.cur && this.mode === 'except') this.mode = 'closed';
    else this.failed = true;
  }

  private closeRun(): void {
    if (this.run.length === 0) return;
    const run: NameRun = { tokens: this.run, line: this.line };
    this.run = [];
    if (!this.cur) this.pre.except.push(run);
    else if (this.mode === 'except') this.cur.except.push(run);
    else this.cur.names.push(run);
  }

  private finalize(c: Clause): void {
    const bare = c.names.length === 0 && !c.all && c.except.length === 0;
    // "approve alice except bob" and a dangling "except" have no reading we can be sure of.
    if (c.except.length > 0 && c.names.length > 0) this.failed = true;
    if (c.exceptWord && c.except.length === 0) this.failed = true;
    // "approve alice, bob denied": is bob approved or denied? Ask rather than guess.
    if (c.namesJustBefore && bare) this.failed = true;
    this.clauses.push(c);
  }

  private endUnit(): void {
    this.closeRun();
    if (this.cur) this.finalize(this.cur);
    this.cur = null;
    this.mode = 'obj';
    if (this.pre.all || this.pre.exceptMode || this.pre.except.length > 0 || this.pre.exceptWord) this.failed = true;
    this.pre = freshPrefix();
  }
}

/** "don't approve", "n'approuvez", "不要核准": from the negation to the verb it governs, if any. */
function negationPhrase(toks: readonly Token[], i: number, line: string): string {
  const t = toks[i]!;
  for (let j = i + 1; j < toks.length; j++) {
    const u = toks[j]!;
    if (u.cls === 'stop' || u.cls === 'question' || u.cls === 'because') break;
    if (isVerb(u)) return line.slice(t.start, u.end);
  }
  return t.text;
}
