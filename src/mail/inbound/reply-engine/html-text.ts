/**
 * HTML reply → the text above the quoted message, in one streaming pass over
 * htmlparser2's Tokenizer.
 *
 * Why no DOM: building a domhandler tree is the slow part of htmlparser2, and
 * its Parser keeps the open-element stack with unshift/indexOf, which makes a
 * 10,000-deep `<div>` nest or a run of stray end tags quadratic (measured at
 * 100–250 ms on our 2-core machines, against a 50 ms budget). The Tokenizer is
 * linear; this file keeps its own stack, looks for a matching end tag only a
 * few levels down, and stops reading the document at the first quote boundary.
 *
 * Output: lines of text, `<br>`/block elements as line breaks, text inside a
 * plain `<blockquote>` prefixed with "> " so that the text rules treat a quote
 * from an unknown client as a quote.
 */
import { Tokenizer } from 'htmlparser2';
import { HTML_QUOTE_RULES, BLOCK_TAGS, VOID_TAGS, type HtmlQuoteRule } from '../reply-rules/quote-html.js';
import { headerLine, ruleView, separatorKind, isForwardSubject } from './line-rules.js';

/** How much HTML is read at all; the reply is at the top. */
export const MAX_HTML_CHARS = 512 * 1024;
/**
 * How many elements and text runs are read at all. What a person writes above
 * a quote is a few dozen elements even in Word-generated HTML; the budget
 * keeps a hostile body (240,000 `<br>`, 10,000 nested `<div>`) from costing
 * more than the time budget. Reading stops there as if the document ended.
 */
export const MAX_HTML_EVENTS = 20_000;
/** How far down the stack an end tag looks for its start tag (stray end tags are ignored). */
const END_TAG_SEARCH_DEPTH = 32;
/** Text read past a quote boundary, to tell a forward from a reply. */
const DROPPED_PEEK_CHARS = 2000;
const DROPPED_PEEK_EVENTS = 4000;
/** Quote prefix depth rendered at most. */
const MAX_QUOTE_PREFIX = 4;

export interface HtmlTrim {
  readonly text: string;
  readonly quoted: boolean;
  readonly forwarded: boolean;
}

interface Frame {
  readonly name: string;
  readonly block: boolean;
  readonly quote: boolean;
  readonly pre: boolean;
}

const INVISIBLE = /[\u200b\u200e\u200f\ufeff]/g;
const WHITESPACE_RUN = /[ \t\n\r\f\u00a0]+/g;

function normaliseId(id: string): string {
  let s = id;
  for (let n = 0; n < 8 && s.startsWith('x_'); n++) s = s.slice(2);
  return s;
}

/** Tags and attributes that some rule looks at: any other element matches no rule. */
const RULE_TAGS: ReadonlySet<string> = new Set(HTML_QUOTE_RULES.flatMap((r) => (r.tag === undefined ? [] : [r.tag])));
const RULE_ATTRIBUTES: readonly string[] = [
  ...new Set(
    HTML_QUOTE_RULES.flatMap((r) => [
      ...(r.idEquals !== undefined || r.idStartsWith !== undefined ? ['id'] : []),
      ...(r.classContains !== undefined ? ['class'] : []),
      ...(r.styleContains !== undefined ? ['style'] : []),
      ...(r.attribute !== undefined ? [r.attribute.name] : []),
    ]),
  ),
];

function matchRule(name: string, attribs: Readonly<Record<string, string>>): HtmlQuoteRule | null {
  if (!RULE_TAGS.has(name) && !RULE_ATTRIBUTES.some((a) => attribs[a] !== undefined)) return null;
  const id = attribs.id !== undefined ? normaliseId(attribs.id) : undefined;
  const cls = attribs.class;
  let style: string | undefined;
  for (const rule of HTML_QUOTE_RULES) {
    if (rule.tag !== undefined && rule.tag !== name) continue;
    if (rule.idEquals !== undefined && id !== rule.idEquals) continue;
    if (rule.idStartsWith !== undefined && !(id?.startsWith(rule.idStartsWith) ?? false)) continue;
    if (rule.classContains !== undefined && !(cls?.includes(rule.classContains) ?? false)) continue;
    if (rule.attribute !== undefined) {
      const value = attribs[rule.attribute.name];
      if (value === undefined) continue;
      if (rule.attribute.equals !== undefined && value.toLowerCase() !== rule.attribute.equals) continue;
    }
    if (rule.styleContains !== undefined) {
      if (attribs.style === undefined) continue;
      style ??= attribs.style.slice(0, 2000).toLowerCase().replace(/\s+/g, '');
      if (!style.includes(rule.styleContains)) continue;
    }
    return rule;
  }
  return null;
}

function isQuoteMarkup(rule: HtmlQuoteRule | null): boolean {
  return rule !== null && (rule.action === 'container' || (rule.action === 'boundary' && rule.whenHeaderFollows !== true));
}

/** Is this rendered line the first line of a quoted message's header? */
function startsHeader(line: string): boolean {
  const view = ruleView(line);
  if (view === null) return false;
  const header = headerLine(view.text.replace(/^[*\s]+/, ''));
  return header !== null && (header.field === 'from' || header.field === 'date');
}

/** Does the text just past a boundary start a forwarded message? */
function looksForwarded(dropped: string): boolean {
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

/** Streaming state of one conversion. */
class HtmlReplyReader {
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
    const skipHere = (capture: boolean): true => {
      if (!isVoid) {
        this.skipAt = this.stack.length - 1;
        this.skipCapture = capture;
      }
      return true;
    };
    switch (rule.action) {
      case 'drop':
        return skipHere(false);
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
        return skipHere(true);
    }
  }

  close(name: string): void {
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
      if (name === 'br' || name === 'p') this.open(name, {}); // "</br>" and "</p>" act as line breaks in browsers
      return;
    }
    while (this.stack.length > at) this.exit(this.stack.pop()!);
  }

  private exit(frame: Frame): void {
    if (this.stopped) return this.drop('\n');
    if (this.skipAt >= 0) {
      if (this.stack.length > this.skipAt) return;
      this.skipAt = -1;
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

  /** Past the event budget: read no further (the document is taken to end here). */
  private overBudget(): boolean {
    if (++this.events <= MAX_HTML_EVENTS) return false;
    if (this.events === MAX_HTML_EVENTS + 1) this.tokenizer.pause();
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

export function htmlToReplyText(html: string): HtmlTrim {
  const source = html.length > MAX_HTML_CHARS ? html.slice(0, MAX_HTML_CHARS) : html;
  let tagName = '';
  let attribs: Record<string, string> = {};
  let attribName = '';
  let attribValue = '';
  const reader = new HtmlReplyReader({ pause: () => tokenizer.pause() });

  const tokenizer: Tokenizer = new Tokenizer(
    { decodeEntities: true },
    {
      onopentagname(start, end) {
        tagName = source.slice(start, end).toLowerCase();
        attribs = {};
      },
      onattribname(start, end) {
        attribName = source.slice(start, end).toLowerCase();
        attribValue = '';
      },
      onattribdata(start, end) {
        attribValue += source.slice(start, end);
      },
      onattribentity(codepoint) {
        attribValue += String.fromCodePoint(codepoint);
      },
      onattribend() {
        if (!(attribName in attribs)) attribs[attribName] = attribValue;
        attribValue = '';
      },
      onopentagend() {
        reader.open(tagName, attribs);
      },
      onselfclosingtag() {
        reader.open(tagName, attribs);
        if (!VOID_TAGS.has(tagName)) reader.close(tagName);
      },
      onclosetag(start, end) {
        reader.close(source.slice(start, end).toLowerCase());
      },
      ontext(start, end) {
        reader.text(source.slice(start, end));
      },
      ontextentity(codepoint) {
        reader.text(String.fromCodePoint(codepoint));
      },
      oncdata() {},
      oncomment() {},
      ondeclaration() {},
      onprocessinginstruction() {},
      onend() {},
    },
  );
  tokenizer.write(source);
  if (tokenizer.running) tokenizer.end();
  reader.finish();
  return {
    text: reader.lines.join('\n'),
    quoted: reader.quoted,
    forwarded: reader.dropped !== '' && looksForwarded(reader.dropped),
  };
}
