/**
 * The Handlebars helpers every template may use. They are registered on a private Handlebars
 * environment (never the global one) and listed in `KNOWN_HELPERS`, which the compiler passes
 * as `knownHelpers` with `knownHelpersOnly`: a misspelt helper in a template then fails when
 * the renderer is created instead of rendering an empty string in a real mail.
 *
 * Locale-dependent helpers read the locale from the root of the data (`@root.locale`), so a
 * template never has to pass it along and cannot pass the wrong one.
 */
import Handlebars from 'handlebars';
import type { HelperOptions } from 'handlebars';
import { isLocale, type Locale } from '../../shared/locale.js';

type Verdict = 'approve' | 'deny' | null | undefined;

/** Verdict labels live here rather than in templates because tables, lists and subjects all need them. */
const VERDICT_LABELS: Record<Locale, { approve: string; deny: string; pending: string }> = {
  en: { approve: 'approved', deny: 'denied', pending: 'waiting for a decision' },
  fr: { approve: 'approuvé', deny: 'refusé', pending: 'en attente de décision' },
  'zh-TW': { approve: '已核准', deny: '已拒絕', pending: '等待決定' },
};

const VERDICT_COLORS = { approve: '#1a7f37', deny: '#b42318', pending: '#8a6d00' } as const;

/** Used in "how to reply" examples when a request has fewer people than the example needs. */
const FALLBACK_REPLY_NAMES = ['alice', 'bob', 'carol'] as const;

/**
 * Intl objects are costly to build (tens of µs each) and a mail uses dozens of dates, numbers and
 * lists; they are immutable, so one per (type, locale, options) is kept for the process.
 */
const intlCache = new Map<string, unknown>();
function cached<T>(key: string, make: () => T): T {
  let value = intlCache.get(key) as T | undefined;
  if (value === undefined) {
    value = make();
    intlCache.set(key, value);
  }
  return value;
}

interface RootData {
  locale?: unknown;
  timeZone?: unknown;
  request?: { people?: { email: string; name: string }[] } | null;
}

function rootOf(options: HelperOptions | undefined): RootData {
  const root: unknown = options?.data?.root;
  return typeof root === 'object' && root !== null ? (root as RootData) : {};
}

function localeOf(options: HelperOptions | undefined): Locale {
  const locale = rootOf(options).locale;
  return isLocale(locale) ? locale : 'en';
}

/** Handlebars passes the options object as the last argument; this splits it off. */
function splitArgs(args: unknown[]): { params: unknown[]; options: HelperOptions } {
  const options = args[args.length - 1] as HelperOptions;
  return { params: args.slice(0, -1), options };
}

function toDate(value: unknown): Date | null {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value;
  if (typeof value === 'string' || typeof value === 'number') {
    const d = new Date(value);
    return Number.isNaN(d.getTime()) ? null : d;
  }
  return null;
}

function verdictKey(value: unknown): 'approve' | 'deny' | 'pending' {
  const v = value as Verdict;
  return v === 'approve' || v === 'deny' ? v : 'pending';
}

/**
 * The name to show in "approve alice, carol"-style examples — what a decider would naturally type
 * and the reply grammar resolves: a Han name written in full ("王小明"), else the first name in
 * lower case ("amélie"), provided no one else on the request shares it; otherwise the local part
 * of the address, which is never ambiguous.
 */
export function replyNameFor(people: readonly { email: string; name: string }[], index: number): string {
  const person = people[index];
  if (!person) return FALLBACK_REPLY_NAMES[index] ?? `person${index + 1}`;
  const key = (name: string): string => {
    const trimmed = name.trim();
    return /^\p{Script=Han}+$/u.test(trimmed) ? trimmed : (trimmed.split(/\s+/)[0] ?? '').toLowerCase();
  };
  const mine = key(person.name);
  const unique = people.filter((p) => key(p.name) === mine).length === 1;
  if (unique && /^(\p{Script=Han}+|\p{Script=Latin}[\p{Script=Latin}'-]*)$/u.test(mine)) return mine;
  return person.email.split('@')[0] ?? person.email;
}

const helpers = {
  /** `{{formatDate date}}` long date; `{{formatDate date time=true}}` adds the time of day. */
  formatDate(...args: unknown[]): string {
    const { params, options } = splitArgs(args);
    const date = toDate(params[0]);
    if (!date) return '';
    const locale = localeOf(options);
    const tz = rootOf(options).timeZone;
    const timeZone = typeof tz === 'string' && tz !== '' ? tz : undefined;
    const withTime = options.hash?.time === true;
    const format = cached(`date|${locale}|${timeZone ?? ''}|${withTime}`, () =>
      new Intl.DateTimeFormat(locale, { dateStyle: 'long', ...(withTime ? { timeStyle: 'short' as const } : {}), timeZone }),
    );
    return format.format(date);
  },
  formatNumber(...args: unknown[]): string {
    const { params, options } = splitArgs(args);
    const n = Number(params[0]);
    const locale = localeOf(options);
    return Number.isFinite(n) ? cached(`number|${locale}`, () => new Intl.NumberFormat(locale)).format(n) : '';
  },
  /** `{{verdictLabel verdict}}` → "approved" / "approuvé" / "已核准"; null means still pending. */
  verdictLabel(...args: unknown[]): string {
    const { params, options } = splitArgs(args);
    return VERDICT_LABELS[localeOf(options)][verdictKey(params[0])];
  },
  verdictColor(...args: unknown[]): string {
    const { params } = splitArgs(args);
    return VERDICT_COLORS[verdictKey(params[0])];
  },
  /** `{{list names}}` → "a, b, and c" / "a, b et c" / "a、b、c"; `or=true` joins with "or". */
  list(...args: unknown[]): string {
    const { params, options } = splitArgs(args);
    const items = Array.isArray(params[0]) ? params[0].map((x) => String(x)) : [];
    const locale = localeOf(options);
    // Intl's zh-TW list ("a和b") glues Latin addresses together; the enumeration comma reads well for both.
    if (locale === 'zh-TW') return items.join('、');
    const type = options.hash?.or === true ? 'disjunction' : 'conjunction';
    return cached(`list|${locale}|${type}`, () => new Intl.ListFormat(locale, { style: 'long', type })).format(items);
  },
  /** `{{plural n "seat" "seats"}}` picks the word by the locale's plural rules (French: 0 and 1 are singular). */
  plural(...args: unknown[]): string {
    const { params, options } = splitArgs(args);
    const locale = localeOf(options);
    const rule = cached(`plural|${locale}`, () => new Intl.PluralRules(locale)).select(Number(params[0]));
    return String(rule === 'one' ? params[1] : params[2]);
  },
  /** `{{quote comment}}` in plain text: every line prefixed with "> ", as mail clients quote. */
  quote(...args: unknown[]): string {
    const { params } = splitArgs(args);
    return String(params[0] ?? '')
      .split(/\r?\n/)
      .map((line) => (line === '' ? '>' : `> ${line}`))
      .join('\n');
  },
  /** `{{#if (eq a b)}}` — needed to branch on reason codes and on "is the recipient this person". */
  eq(...args: unknown[]): boolean {
    const { params } = splitArgs(args);
    return params[0] === params[1];
  },
  /** `{{replyName 0}}` — the name of the request's n-th person as used in reply examples. */
  replyName(...args: unknown[]): string {
    const { params, options } = splitArgs(args);
    const people = rootOf(options).request?.people ?? [];
    return replyNameFor(people, Number(params[0]) || 0);
  },
} satisfies Record<string, (...args: unknown[]) => unknown>;

export const KNOWN_HELPERS: Readonly<Record<string, true>> = Object.freeze(
  Object.fromEntries(Object.keys(helpers).map((name) => [name, true as const])),
);

/** A fresh Handlebars environment with Mailgrant's helpers; isolated so nothing else can add to it. */
export function createHandlebarsEnv(): typeof Handlebars {
  const env = Handlebars.create();
  for (const [name, fn] of Object.entries(helpers)) env.registerHelper(name, fn as Handlebars.HelperDelegate);
  return env;
}
