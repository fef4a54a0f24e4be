import { fold, isHan, stripPunctuation } from './text.js';
import type { Token } from './tokenize.js';

export interface Person {
  readonly email: string;
  readonly name: string | null;
  readonly pending: boolean;
}

/**
 * Every way a person on this request can be named: first name, full name, address, local part,
 * and Han names written without spaces. Keys are folded, so matching ignores case and accents.
 */
export interface NameIndex {
  readonly people: readonly Person[];
  /** Folded Latin key (words joined by one space) → indexes into `people`. */
  readonly latin: ReadonlyMap<string, readonly number[]>;
  readonly maxWords: number;
  /** Han name → indexes into `people`. */
  readonly han: ReadonlyMap<string, readonly number[]>;
}

export type RunPart =
  | { readonly kind: 'person'; readonly text: string; readonly person: number }
  | { readonly kind: 'unknown'; readonly text: string }
  | { readonly kind: 'ambiguous'; readonly text: string; readonly people: readonly number[] };

function add(map: Map<string, number[]>, key: string, person: number): void {
  if (key === '') return;
  const list = map.get(key) ?? [];
  if (!list.includes(person)) list.push(person);
  map.set(key, list);
}

/** Contiguous Han runs of a name ("王小明", or "王小明" inside "Wang 王小明"). */
function hanRuns(name: string): string[] {
  const runs: string[] = [];
  let cur = '';
  for (const ch of name) {
    if (isHan(ch)) cur += ch;
    else if (!/\s/.test(ch)) {
      if (cur) runs.push(cur);
      cur = '';
    }
  }
  if (cur) runs.push(cur);
  return runs;
}

export function buildNameIndex(input: readonly { email: string; name?: string | null; pending: boolean }[]): NameIndex {
  const people: Person[] = [];
  const seen = new Set<string>();
  for (const p of input) {
    const email = p.email.trim().toLowerCase();
    // The same address twice is one person; keeping both would make every name "ambiguous".
    if (email === '' || seen.has(email)) continue;
    seen.add(email);
    people.push({ email, name: p.name?.trim() || null, pending: p.pending });
  }
  const latin = new Map<string, number[]>();
  const han = new Map<string, number[]>();
  let maxWords = 1;
  people.forEach((p, i) => {
    const address = fold(p.email);
    add(latin, address, i);
    const at = address.lastIndexOf('@');
    if (at > 0) add(latin, address.slice(0, at), i);
    if (!p.name) return;
    for (const run of hanRuns(p.name)) add(han, run, i);
    const words = p.name
      .split(/\s+/)
      .filter((w) => ![...w].some(isHan))
      .map((w) => stripPunctuation(fold(w)))
      .filter((w) => w !== '');
    if (words.length === 0) return;
    add(latin, words[0]!, i);
    add(latin, words.join(' '), i);
    maxWords = Math.max(maxWords, words.length);
  });
  return { people, latin, maxWords, han };
}

/** True when a single token is, on its own, a way to name someone on this request. */
export function isPersonToken(index: NameIndex, t: Token): boolean {
  return t.kind === 'han' ? index.han.has(t.fold) : index.latin.has(t.fold);
}

function part(text: string, hits: readonly number[] | undefined): RunPart {
  if (!hits || hits.length === 0) return { kind: 'unknown', text };
  if (hits.length === 1) return { kind: 'person', text, person: hits[0]! };
  return { kind: 'ambiguous', text, people: hits };
}

/**
 * Resolves a run of name tokens written without separators ("Alice Wong", "alice bob"): the
 * longest key wins at each position, so "alex kim" beats the ambiguous "alex". Consecutive
 * words that match nobody are reported together ("Dave Brown"), never guessed.
 */
export function resolveRun(index: NameIndex, run: readonly Token[], line: string): RunPart[] {
  const parts: RunPart[] = [];
  let unknownFrom = -1;
  let unknownTo = -1;
  const flushUnknown = (): void => {
    if (unknownFrom < 0) return;
    parts.push({ kind: 'unknown', text: line.slice(run[unknownFrom]!.start, run[unknownTo]!.end) });
    unknownFrom = -1;
  };
  let i = 0;
  while (i < run.length) {
    const t = run[i]!;
    if (t.kind === 'han') {
      const hits = index.han.get(t.fold);
      if (hits) {
        flushUnknown();
        parts.push(part(t.text, hits));
      } else {
        if (unknownFrom < 0) unknownFrom = i;
        unknownTo = i;
      }
      i++;
      continue;
    }
    let taken = 0;
    for (let n = Math.min(index.maxWords, run.length - i); n > 0 && taken === 0; n--) {
      const words = run.slice(i, i + n);
      if (words.some((w) => w.kind !== 'word')) continue;
      const key = words.map((w) => w.fold).join(' ');
      // "alex kim's request": a possessive still names the person.
      const hits = index.latin.get(key) ?? (key.endsWith("'s") ? index.latin.get(key.slice(0, -2)) : undefined);
      if (!hits) continue;
      flushUnknown();
      parts.push(part(line.slice(t.start, words[n - 1]!.end), hits));
      taken = n;
    }
    if (taken === 0) {
      if (unknownFrom < 0) unknownFrom = i;
      unknownTo = i;
      taken = 1;
    }
    i += taken;
  }
  flushUnknown();
  return parts;
}
