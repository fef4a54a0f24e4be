/**
 * The lines of a reply as the text rules read them: the body cut to the scan
 * limits, split once, and each line's normalised view and header reading
 * computed at most once (the lookbacks and header-block reads revisit lines).
 */
import { headerLine, isBlank, ruleView, type HeaderLine, type LineView } from './line-rules.js';

/**
 * How much of a body is read at all: what a decider writes above a quote is a
 * few lines. A longer body is read up to these limits and the rest is dropped
 * (so a bottom-posted answer under a longer quote is lost). They also bound
 * the time of one extraction, whatever the body holds.
 */
export const MAX_SCAN_CHARS = 64 * 1024;
export const MAX_SCAN_LINES = 5_000;

export function splitLines(text: string): string[] {
  let scanned = text.length > MAX_SCAN_CHARS ? text.slice(0, MAX_SCAN_CHARS) : text;
  // Do not end inside a CRLF pair.
  if (scanned.endsWith('\r')) scanned = scanned.slice(0, -1);
  return scanned.split(/\r\n|\r|\n/, MAX_SCAN_LINES);
}

/** Lines plus a lazily computed, cached rule view and header reading of each. */
export class Lines {
  private readonly views: (LineView | null | undefined)[];
  private readonly headers: (HeaderLine | null | undefined)[];
  constructor(readonly raw: readonly string[]) {
    this.views = new Array<LineView | null | undefined>(raw.length);
    this.headers = new Array<HeaderLine | null | undefined>(raw.length);
  }
  get length(): number {
    return this.raw.length;
  }
  line(i: number): string {
    return this.raw[i] ?? '';
  }
  view(i: number): LineView | null {
    let v = this.views[i];
    if (v === undefined) {
      v = ruleView(this.line(i));
      this.views[i] = v;
    }
    return v;
  }
  header(i: number): HeaderLine | null {
    let h = this.headers[i];
    if (h === undefined) {
      const view = this.view(i);
      h = view === null ? null : headerLine(view.text);
      this.headers[i] = h;
    }
    return h;
  }
  blank(i: number): boolean {
    return isBlank(this.line(i));
  }
}

