import type { DirectoryUser, Rules } from '../config/rules.js';
import { normalise } from './product-match.js';

/**
 * Finds the other people a request mail asks for. Three forms are understood, so that a
 * request is never silently recorded for fewer people than asked:
 * - addresses anywhere in the text;
 * - directory users' full names anywhere in the text;
 * - a line such as "Also for: bob, Carol Jones" / "Pour : bob" / "也給：bob" whose items are
 *   names, first names, addresses or local parts; an item that matches nobody is reported.
 */
const ADDRESS = /[a-z0-9._%+-]{1,64}@[a-z0-9.-]{1,253}\.[a-z]{2,63}/gi;
const LIST_LINE = /^\s{0,8}(?:also for|also|for|cc|pour|aussi pour|aussi|également pour|也給|也幫|另外給|給|同時申請)\s{0,4}[:：]\s{0,4}(.{1,2000})$/i;
const SEPARATORS = /\s*(?:[,;，、；]|\band\b|\bet\b|和|及|與)\s*/u;

export interface PeopleMatch {
  users: DirectoryUser[];
  unknown: string[];
}

function stripAccents(s: string): string {
  return s.normalize('NFKD').replace(/\p{M}/gu, '');
}

function resolveItem(item: string, rules: Rules): DirectoryUser[] {
  const key = stripAccents(normalise(item.trim().replace(/^["'<(]+|[">').]+$/g, '')));
  if (!key) return [];
  return rules.users.filter((u) => {
    const local = u.email.split('@')[0]!;
    const full = stripAccents(normalise(u.name));
    const first = full.split(/\s+/)[0]!;
    return u.email === key || local === key || full === key || first === key;
  });
}

export function matchPeople(text: string, rules: Rules, exclude: readonly string[]): PeopleMatch {
  const found = new Map<string, DirectoryUser>();
  const unknown: string[] = [];
  const skip = new Set(exclude.map((e) => e.toLowerCase()));
  const add = (u: DirectoryUser) => {
    if (!skip.has(u.email)) found.set(u.email, u);
  };
  const body = text.slice(0, 20_000);

  for (const m of body.matchAll(ADDRESS)) {
    const address = m[0].toLowerCase();
    if (skip.has(address)) continue;
    const u = rules.user(address);
    if (u) add(u);
    else if (!unknown.includes(address)) unknown.push(address);
  }

  const hay = stripAccents(normalise(body));
  for (const u of rules.users) {
    const full = stripAccents(normalise(u.name));
    if (full.includes(' ') || /[\u3400-\u9fff]/.test(full)) {
      const at = hay.indexOf(full);
      if (at >= 0) add(u);
    }
  }

  for (const line of body.split(/\r?\n/)) {
    const m = LIST_LINE.exec(line);
    if (!m) continue;
    for (const item of m[1]!.split(SEPARATORS)) {
      if (!item.trim()) continue;
      const matches = resolveItem(item, rules);
      if (matches.length === 1) add(matches[0]!);
      else if (!item.includes('@') && !unknown.includes(item.trim())) unknown.push(item.trim());
    }
  }
  return { users: [...found.values()], unknown };
}
