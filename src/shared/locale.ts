/** The languages Mailgrant writes mail in and understands replies in. */
export const LOCALES = ['en', 'fr', 'zh-TW'] as const;
export type Locale = (typeof LOCALES)[number];

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value);
}
