/**
 * How an admin names people on the command line (`--approve bob`, `--users alice@x,Carol Jones`):
 * the address, its local part, the full name or the first name, ignoring case and accents. A name
 * that matches two people is refused rather than guessed, as in replies.
 */
export interface Named {
  readonly email: string;
  readonly name: string | null;
}

export type Lookup<T extends Named> =
  | { readonly kind: 'found'; readonly person: T }
  | { readonly kind: 'unknown'; readonly item: string }
  | { readonly kind: 'ambiguous'; readonly item: string; readonly matches: readonly T[] };

const fold = (s: string) => s.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase().replace(/\s+/g, ' ').trim();

export function lookupPerson<T extends Named>(people: readonly T[], item: string): Lookup<T> {
  const key = fold(item);
  if (!key) return { kind: 'unknown', item };
  const exact = people.filter((p) => p.email.toLowerCase() === key);
  if (exact.length === 1) return { kind: 'found', person: exact[0]! };
  if (key.includes('@')) return { kind: 'unknown', item };
  const matches = people.filter((p) => {
    const full = p.name ? fold(p.name) : '';
    return p.email.split('@')[0]!.toLowerCase() === key || full === key || (full !== '' && full.split(' ')[0] === key);
  });
  if (matches.length === 1) return { kind: 'found', person: matches[0]! };
  if (matches.length === 0) return { kind: 'unknown', item };
  return { kind: 'ambiguous', item, matches };
}

/** Splits a comma-separated flag value ("a@x, b@x,,c") into its items. */
export function listFlag(value: string | undefined): string[] {
  if (!value) return [];
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}
