import type { Product } from '../config/rules.js';

/**
 * Finds which products a request mail names. Latin names must stand as whole words ("Visio"
 * in "Visio Plan 2" but not in "Envisioned"); names with CJK characters are matched as
 * substrings because those scripts do not separate words with spaces.
 */
const CJK = /[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]/;
const WORD = /[\p{L}\p{N}]/u;

export function normalise(text: string): string {
  return text.normalize('NFKC').toLowerCase();
}

function indexOfWord(haystack: string, needle: string): number {
  let from = 0;
  for (;;) {
    const i = haystack.indexOf(needle, from);
    if (i < 0) return -1;
    const before = i === 0 ? '' : haystack[i - 1]!;
    const after = haystack[i + needle.length] ?? '';
    if (CJK.test(needle) || (!WORD.test(before) && !WORD.test(after))) return i;
    from = i + 1;
  }
}

/** Products named in the text, in order of first mention. */
export function matchProducts(text: string, products: readonly Product[]): Product[] {
  const hay = normalise(text.slice(0, 20_000));
  const found: { product: Product; at: number }[] = [];
  for (const p of products) {
    let best = -1;
    for (const name of [p.name, ...p.aliases]) {
      const at = indexOfWord(hay, normalise(name));
      if (at >= 0 && (best < 0 || at < best)) best = at;
    }
    if (best >= 0) found.push({ product: p, at: best });
  }
  return found.sort((a, b) => a.at - b.at).map((f) => f.product);
}
