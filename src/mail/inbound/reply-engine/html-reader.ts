/**
 * The streaming state of one HTML → text conversion: a stack of open
 * elements, the lines written so far, and what the quote rules decided.
 *
 * - Block elements and `<br>` end lines; Outlook's `<p>&nbsp;</p>` is a blank line.
 * - Text inside a plain `<blockquote>` gets a "> " prefix, so that the text
 *   rules treat a quote from an unknown client as a quote.
 * - A 'drop' element is skipped; a 'boundary' stops the reading; a
 *   'container'/'signature' stops it when something was written above, and is
 *   skipped otherwise (the person wrote below the quote).
 * - An Outlook `<hr>` or border-top div is a boundary only when the first line
 *   after it is a From:/Sent: header: the decision waits for that line, and
 *   the lines written since are taken back when it is one.
 * - Past a stop, a little more text is read (DROPPED_PEEK_*) to tell a forward
 *   from a reply and to see a quote hidden below a signature.
 */
import { BLOCK_TAGS, VOID_TAGS, type HtmlQuoteRule } from '../reply-rules/quote-html.js';
import { isQuoteMarkup, matchRule } from './html-rules.js';
import { headerLine, isForwardSubject, ruleView, separatorKind } from './line-rules.js';
import { MAX_SCAN_CHARS, MAX_SCAN_LINES } from './lines.js';

/**
 * How many start tags, end tags and text runs are read at all. What a person
 * writes above a quote is a few hundred of them even in Word-generated HTML;
 * the budget keeps a hostile body (240,000 `<br>`, 10,000 nested `<div>`) from
 * costing more than the time budget. Reading stops there as if the document ended.
 */
export const MAX_HTML_EVENTS = 20_000;
/** How far down the stack an end tag looks for its start tag (a stray end tag is ignored). */
const END_TAG_SEARCH_DEPTH = 32;
/** Text read past a stop, to tell a forward from a reply. */
const DROPPED_PEEK_CHARS = 2000;
const DROPPED_PEEK_EVENTS = 4000;
/** Quote prefix depth rendered at most. */
const MAX_QUOTE_PREFIX = 4;

interface Frame {
  readonly name: string;
  readonly block: boolean;
  readonly quote: boolean;
  readonly pre: boolean;
}

const INVISIBLE = /[\u200b\u200e\u200f\ufeff]/g;
const WHITESPACE_RUN = /[ \t\n\r\f\u00a0]+/g;

/** Does the text just past a boundary (or inside a skipped quote) start a forwarded message? */
export function looksForwarded(dropped: string): boolean {
  const lines = dropped.split('\n', 40);
  for (const line of lines) {
    const view = ruleView(line);
    if (view === null || view.text === '') continue;
    if (separatorKind(view.text) === 'forward') return true;
    const header = headerLine(view.text);
    if (header !== null && header.field === 'subject' && isForwardSubject(header.value)) return true;
  }
  return false;
}

/** Is this rendered line the first line of a quoted message's header? */
function startsHeader(line: string): boolean {
  const view = ruleView(line);
  const header = view === null ? null : headerLine(view.text);
  return header !== null && (header.field === 'from' || header.field === 'date');
}

export class HtmlReplyReader {
  readonly lines: string[] = [];
  private current = '';
  private readonly stack: Frame[] = [];
  private quoteDepth = 0;
  private preDepth = 0;
  /** Something other than whitespace was written before the current point. */
  private hasContent = false;
  /** The current line holds a no-break space: Outlook's "<p>&nbsp;</p>" empty line. */
  private nbspLine = false;
  /** Index in the stack of an element whose content is being skipped, or -1. */
  private skipAt = -1;
  private skipCapture = false;
  /** Lines count when a `whenHeaderFollows` element opened, waiting for its first line. */
  private pendingAt = -1;
  stopped = false;
  quoted = false;
  dropped = '';
  private droppedEvents = 0;
  private events = 0;
  private overLimit = false;
  private outputChars = 0;

  constructor(private readonly tokenizer: { pause(): void }) {}

  open(name: string, attribs: Record<string, string>): void {
    if (this.overBudget()) return;
    const isVoid = VOID_TAGS.has(name);
    const frame: Frame = { name, block: BLOCK_TAGS.has(name), quote: name === 'blockquote', pre: name === 'pre' };
    if (!isVoid) this.stack.push(frame);
    if (this.stopped) {
      // Past a signature: is the quote under it? (Gmail, Outlook mobile)
      if (!this.quoted && isQuoteMarkup(matchRule(name, attribs))) this.quoted = true;
      return this.drop('\n');
    }
    if (this.skipAt >= 0) {
      if (this.skipCapture) this.drop('\n');
      return;
    }
    const rule = matchRule(name, attribs);
    if (rule !== null && this.applyRule(rule, isVoid)) return;
    if (name === 'br') this.endLine(true);
    else if (frame.block) this.endLine(false);
    else if (name === 'td' || name === 'th') this.append(' ');
    if (isVoid) return;
    if (frame.quote) this.quoteDepth++;
    if (frame.pre) this.preDepth++;
  }

  /** Returns true when the element is consumed by the rule (skipped or stopped at). */
  private applyRule(rule: HtmlQuoteRule, isVoid: boolean): boolean {
    switch (rule.action) {
      case 'drop':
        return this.skipElement(isVoid, false);
      case 'boundary':
        if (rule.whenHeaderFollows === true) {
          this.endLine(false);
          if (this.pendingAt < 0) this.pendingAt = this.lines.length;
          return false;
        }
        this.quoted = true;
        this.stop();
        return true;
      case 'container':
      case 'signature':
        if (rule.action === 'container') this.quoted = true;
        if (this.hasContent) {
          this.stop();
          return true;
        }
        return this.skipElement(isVoid, true);
    }
  }

  /** Skip the element just opened and its content (capturing its text as dropped, for the forward check). */
  private skipElement(isVoid: boolean, capture: boolean): true {
    if (!isVoid) {
      this.skipAt = this.stack.length - 1;
      this.skipCapture = capture;
    }
    return true;
  }

  close(name: string): void {
    if (this.overBudget()) return;
    // Find the start tag a few levels down; a stray end tag is ignored.
    const bottom = Math.max(0, this.stack.length - END_TAG_SEARCH_DEPTH);
    let at = -1;
    for (let i = this.stack.length - 1; i >= bottom; i--) {
      if (this.stack[i]!.name === name) {
        at = i;
        break;
      }
    }
    if (at < 0) {
      // Browsers read a stray "</br>" as a line break and a stray "</p>" as an empty paragraph.
      if (!this.stopped && this.skipAt < 0 && (name === 'br' || name === 'p')) this.endLine(name === 'br');
      return;
    }
    // "</div>" over an open quote that it does not name: the markup is broken (damaged on its
    // way, or hand-made) and where the quote really ends is unknown. Reading on would take the
    // rest of the quoted message for the person's words (a byte flipped in an Apple forward's
    // "<div" made Bob's quoted "approve all" Dana's), so the reading stops there.
    const crossesQuote = !this.stopped && this.quoteAbove(at);
    while (this.stack.length > at) this.exit(this.stack.pop()!);
    if (crossesQuote && !this.stopped) {
      this.quoted = true;
      this.stop();
    }
  }

  /** Is a quote open above stack index `at`: a skipped quote container, or a blockquote outside one? */
  private quoteAbove(at: number): boolean {
    for (let i = at + 1; i < this.stack.length; i++) {
      if (i === this.skipAt) return this.skipCapture; // what is inside a skipped element does not count
      if (this.stack[i]!.quote) return true;
    }
    return false;
  }

  private exit(frame: Frame): void {
    if (this.stopped) return this.drop('\n');
    if (this.skipAt >= 0) {
      if (this.stack.length > this.skipAt) return;
      this.skipAt = -1;
      // A quote skipped because nothing was written above it is read past (the person may have
      // written below it), unless it held a forwarded message's header: what follows that is the
      // forwarded message, whose "approve all" is not the forwarder's.
      if (this.skipCapture && looksForwarded(this.dropped)) this.stop();
      return;
    }
    if (frame.block) this.endLine(false);
    if (frame.quote) this.quoteDepth--;
    if (frame.pre) this.preDepth--;
  }

  text(data: string): void {
    if (this.overBudget()) return;
    if (this.stopped) return this.drop(data);
    if (this.skipAt >= 0) {
      if (this.skipCapture) this.drop(data);
      return;
    }
    if (this.preDepth > 0) {
      const parts = data.replace(INVISIBLE, '').split(/\r\n|\r|\n/);
      for (let i = 0; i < parts.length; i++) {
        if (i > 0) this.endLine(true);
        this.append(parts[i]!);
      }
      return;
    }
    if (data.includes('\u00a0')) this.nbspLine = true;
    let chunk = data.replace(INVISIBLE, '').replace(WHITESPACE_RUN, ' ');
    if (this.current === '' || this.current.endsWith(' ')) chunk = chunk.trimStart();
    this.append(chunk);
  }

  private append(chunk: string): void {
    if (chunk === '' || (chunk === ' ' && (this.current === '' || this.current.endsWith(' ')))) return;
    this.current += chunk;
    if (!this.hasContent && chunk.trim().replace(/ᐧ/g, '') !== '') this.hasContent = true;
  }

  /** Ends the current line; an empty line is kept only for `<br>` (forced). */
  private endLine(forced: boolean): void {
    const line = this.current.trimEnd();
    const nbspLine = this.nbspLine;
    this.current = '';
    this.nbspLine = false;
    if (line.trim() === '' && !forced && !nbspLine) return;
    const depth = Math.min(this.quoteDepth, MAX_QUOTE_PREFIX);
    const rendered = depth > 0 && line.trim() !== '' ? `${'>'.repeat(depth)} ${line}` : line;
    this.lines.push(rendered);
    this.outputChars += rendered.length + 1;
    this.checkPending(rendered);
  }

  /** An Outlook `<hr>`/border-top div: is its first line a From:/Sent: header? */
  private checkPending(line: string): void {
    if (this.pendingAt < 0 || line.trim() === '') return;
    const at = this.pendingAt;
    this.pendingAt = -1;
    if (!startsHeader(line)) return;
    const removed = this.lines.splice(at);
    this.quoted = true;
    this.stop();
    this.dropped = `${removed.join('\n')}\n`;
  }

  /**
   * A start tag that swallowed markup: a quote character lost from an attribute makes its value
   * run on, over text and tags, to the next quote character. What it swallowed is unknown; in a
   * French Outlook reply it was the "De : / Envoyé :" header block under the reply, so the quoted
   * original read as the person's words. The reading stops, and the line the tag sits in is
   * dropped too: the rest of that line may be what was swallowed ("approve all" of "approve all
   * except bob").
   */
  brokenTag(): void {
    if (this.stopped) return;
    this.current = '';
    this.quoted = true;
    this.stop();
  }

  /** Past the event budget: read no further (the document is taken to end here). */
  private overBudget(): boolean {
    const within =
      ++this.events <= MAX_HTML_EVENTS &&
      // The text rules read no further than this anyway.
      (this.stopped || (this.lines.length <= MAX_SCAN_LINES && this.outputChars <= MAX_SCAN_CHARS));
    if (within) return false;
    if (!this.overLimit) {
      this.overLimit = true;
      this.tokenizer.pause();
    }
    return true;
  }

  finish(): void {
    if (!this.stopped) this.endLine(false);
  }

  private stop(): void {
    this.endLine(false);
    this.stopped = true;
    this.skipAt = -1;
  }

  private drop(data: string): void {
    if (this.dropped.length < DROPPED_PEEK_CHARS) this.dropped += data.slice(0, DROPPED_PEEK_CHARS);
    if (this.stopped && (++this.droppedEvents > DROPPED_PEEK_EVENTS || this.dropped.length >= DROPPED_PEEK_CHARS)) {
      this.tokenizer.pause();
    }
  }
}
