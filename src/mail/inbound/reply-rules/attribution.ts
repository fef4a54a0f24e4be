/**
 * Attribution lines: the line a mail client writes above the message it quotes
 * ("On Fri, 20 Nov 2026 at 15:04, Dana <dana@contoso.example> wrote:").
 *
 * Each pattern is tested against ONE candidate string that the engine builds:
 * a single line, or a wrapped attribution joined back into one line (Gmail and
 * Outlook wrap long attributions over two to five lines), with quote markers
 * (`>`), decorating dashes/asterisks (Zoho's "---- On … wrote ----") and
 * surrounding spaces removed, never longer than MAX_CANDIDATE characters.
 *
 * Rules for the patterns below: anchored ^…$, `.` never crosses a line (the
 * candidate has none), every quantifier bounded, no quantified group inside a
 * quantified group. The `needsColon` and `evidence` checks run before the
 * pattern, so a pattern only ever runs on lines that can plausibly match.
 */

/** The longest candidate (single or joined) that is tested at all. */
export const MAX_CANDIDATE = 500;

/**
 * What the candidate must hold besides the words, checked with plain string
 * scans before the pattern: an attribution names a date (digit) or an address
 * (@). This is what keeps prose such as "approve alice, as Bob wrote:" or
 * "On reflection I wrote:" from being taken for an attribution.
 */
export type AttributionEvidence = 'digit' | 'digit-or-at' | 'none';

export interface AttributionRule {
  readonly id: string;
  /** The mail clients that write this form: the reason the rule exists. */
  readonly clients: string;
  /**
   * Literal pre-checks on the lower-cased candidate, so that a pattern only
   * runs on a line that already has the rule's words: the candidate (without
   * its final colon and spaces) ends with one of `endsWith`, and contains one
   * of `includes`. They make a failed test cost a few string comparisons.
   */
  readonly endsWith?: readonly string[];
  readonly includes?: readonly string[];
  readonly pattern: RegExp;
  /** The candidate must end with ':' or '：' (after the decorations are removed). */
  readonly needsColon: boolean;
  readonly evidence: AttributionEvidence;
}

export const ATTRIBUTION_RULES: readonly AttributionRule[] = [
  // ── English ──────────────────────────────────────────────────────────────
  {
    id: 'en-on-wrote',
    clients: 'Gmail, Apple Mail/iOS, Thunderbird, Outlook mobile, Zoho ("---- On … wrote ----", no colon)',
    endsWith: ['wrote', 'writes'],
    pattern: /^(?:On|At)\s.{1,480}\s(?:wrote|writes)\s?:?$/i,
    needsColon: false,
    evidence: 'digit',
  },
  {
    id: 'en-someone-wrote',
    clients: 'Yahoo, K-9, mailing-list software ("Dana <dana@x> wrote:", "At 6/16/2016 08:32 PM, you wrote:")',
    endsWith: ['wrote', 'writes'],
    pattern: /^.{1,480}\s(?:wrote|writes)\s?:$/i,
    needsColon: true,
    evidence: 'digit-or-at',
  },
  {
    id: 'en-wrote-on',
    clients: 'Outlook.com web and some Android clients ("Dana <dana@x> wrote on 20 Nov 2026 15:04:")',
    includes: [' wrote on '],
    pattern: /^.{1,300}\swrote\son\s.{1,180}:$/i,
    needsColon: true,
    evidence: 'digit',
  },
  // ── French ───────────────────────────────────────────────────────────────
  {
    id: 'fr-le-a-ecrit',
    clients: 'Gmail fr, Apple Mail fr, Thunderbird fr ("Le 20 nov. 2026 à 15:04, Dana <…> a écrit :")',
    endsWith: ['écrit', 'écrivait', 'nous a dit'],
    pattern: /^Le\s.{1,480}\s(?:a\s{1,3}écrit|écrivait|nous\sa\sdit)\s?:?$/iu,
    needsColon: false,
    evidence: 'digit',
  },
  {
    id: 'fr-a-ecrit',
    clients: 'K-9 and webmails fr ("Dana <dana@x> a écrit :")',
    endsWith: ['écrit'],
    pattern: /^.{1,480}\sa\s{1,3}écrit\s?:$/iu,
    needsColon: true,
    evidence: 'digit-or-at',
  },
  // ── German ───────────────────────────────────────────────────────────────
  {
    id: 'de-am-schrieb',
    clients: 'Apple Mail de, Thunderbird de, Android ("Am 20.11.2026 um 15:04 schrieb Dana <…>:")',
    includes: [' schrieb', ' geschrieben'],
    pattern: /^Am\s.{1,300}\s(?:schrieb|geschrieben|schrieben\sSie)(?:\s.{1,180})?\s?:$/iu,
    needsColon: true,
    evidence: 'digit',
  },
  {
    id: 'de-schrieb-am',
    clients: 'Gmail de ("Dana <dana@x> schrieb am Fr., 20. Nov. 2026 um 15:04 Uhr:")',
    includes: [' schrieb am '],
    pattern: /^.{1,300}\sschrieb\sam\s.{1,180}:$/iu,
    needsColon: true,
    evidence: 'digit',
  },
  {
    id: 'de-schrieb',
    clients: 'K-9 de ("Dana via List <list@x> schrieb:")',
    endsWith: ['schrieb'],
    pattern: /^.{1,480}\sschrieb\s?:$/iu,
    needsColon: true,
    evidence: 'digit-or-at',
  },
  // ── Dutch ────────────────────────────────────────────────────────────────
  {
    id: 'nl-op-schreef',
    clients: 'Apple Mail nl, Gmail nl ("Op 20 nov. 2026 om 15:04 heeft Dana <…> het volgende geschreven:")',
    includes: [' geschreven', ' schreef'],
    pattern: /^Op\s.{1,300}\s(?:het\svolgende\sgeschreven|schreef(?:\s.{1,180})?)\s?:$/iu,
    needsColon: true,
    evidence: 'digit',
  },
  // ── Scandinavian ─────────────────────────────────────────────────────────
  {
    id: 'nordic-skrev',
    clients: 'Apple Mail and Gmail sv/no/da ("Den 20 nov. 2026 kl. 15:04 skrev Dana <…>:")',
    includes: [' skrev'],
    pattern: /^.{1,300}\sskrev(?:\s.{1,180})?\s?:$/iu,
    needsColon: true,
    evidence: 'digit',
  },
  {
    id: 'fi-kirjoitti',
    clients: 'Gmail fi, Apple Mail fi ("… Dana <…> kirjoitti:")',
    endsWith: ['kirjoitti'],
    pattern: /^.{1,480}\skirjoitti\s?:$/iu,
    needsColon: true,
    evidence: 'digit-or-at',
  },
  // ── Southern Europe ──────────────────────────────────────────────────────
  {
    id: 'it-ha-scritto',
    clients: 'Gmail it, Apple Mail it, webmails ("Il 20 nov 2026, alle ore 15:04, Dana <…> ha scritto:")',
    endsWith: ['ha scritto'],
    pattern: /^.{1,480}\sha\sscritto\s?:$/iu,
    needsColon: true,
    evidence: 'digit-or-at',
  },
  {
    id: 'es-escribio',
    clients: 'Gmail es, Apple Mail es ("El vie, 20 nov 2026 a las 15:04, Dana (<…>) escribió:")',
    endsWith: ['escribió'],
    pattern: /^.{1,480}\sescribió\s?:$/iu,
    needsColon: true,
    evidence: 'digit-or-at',
  },
  {
    id: 'pt-escreveu',
    clients: 'Gmail pt, Apple Mail pt ("Em sex., 20 de nov. de 2026 às 15:04, Dana <…> escreveu:")',
    endsWith: ['escreveu'],
    pattern: /^.{1,480}\sescreveu\s?:$/iu,
    needsColon: true,
    evidence: 'digit-or-at',
  },
  // ── Slavic ───────────────────────────────────────────────────────────────
  {
    id: 'pl-napisal',
    clients: 'Gmail pl, Apple Mail pl, Thunderbird pl ("Dnia … napisał(a):", "W dniu … pisze:")',
    endsWith: ['napisał', 'napisała', 'napisał(a)', 'pisze'],
    pattern: /^.{1,480}\s(?:napisał|napisała|napisał\(a\)|pisze)\s?:$/iu,
    needsColon: true,
    evidence: 'digit-or-at',
  },
  {
    id: 'cs-napsal',
    clients: 'Gmail cs ("… Dana <…> napsal(a):")',
    endsWith: ['napsal', 'napsala', 'napsal(a)'],
    pattern: /^.{1,480}\s(?:napsal|napsala|napsal\(a\))\s?:$/iu,
    needsColon: true,
    evidence: 'digit-or-at',
  },
  {
    id: 'ru-napisal',
    clients: 'Gmail ru, Apple Mail ru, Yandex ("20 нояб. 2026 г., в 15:04, Dana <…> написал(а):")',
    endsWith: ['написал', 'написала', 'написал(а)', 'пишет'],
    pattern: /^.{1,480}\s(?:написал|написала|написал\(а\)|пишет)\s?:$/iu,
    needsColon: true,
    evidence: 'digit-or-at',
  },
  {
    id: 'uk-pyshe',
    clients: 'Gmail uk ("20 лист. 2026 р. о 15:04 Dana <…> пише:")',
    endsWith: ['пише', 'написав', 'написала', 'написав(ла)'],
    pattern: /^.{1,480}\s(?:пише|написав|написала|написав\(ла\))\s?:$/iu,
    needsColon: true,
    evidence: 'digit-or-at',
  },
  // ── Turkish ──────────────────────────────────────────────────────────────
  {
    id: 'tr-yazdi',
    clients: 'Gmail tr ("Dana <…>, 20 Kas 2026 Cum, 15:04 tarihinde şunu yazdı:")',
    endsWith: ['yazdı'],
    pattern: /^.{1,480}\s(?:yazdı|şunu\syazdı)\s?:$/iu,
    needsColon: true,
    evidence: 'digit-or-at',
  },
  // ── Chinese ──────────────────────────────────────────────────────────────
  {
    id: 'zh-zai-xiedao',
    clients:
      'Gmail zh-TW ("於 2026年11月20日 週五 下午3:04，Dana <…> 寫道："), iOS/Apple Mail zh-TW and zh-CN ("在 2026年11月20日，15:04，Dana <…> 写道：")',
    endsWith: ['写道', '寫道'],
    pattern: /^(?:在|於|于)\s?.{1,480}(?:写道|寫道)\s?[:：]?$/u,
    needsColon: false,
    evidence: 'digit',
  },
  {
    id: 'zh-xiedao',
    clients: 'Gmail zh-CN ("Dana <dana@x> 于2026年11月20日周五 15:04写道：")',
    endsWith: ['写道', '寫道'],
    pattern: /^.{1,480}(?:写道|寫道)\s?[:：]$/u,
    needsColon: true,
    evidence: 'digit-or-at',
  },
  // ── Japanese, Korean ─────────────────────────────────────────────────────
  {
    id: 'ja-message',
    clients: 'iOS Mail ja ("2026/11/20 15:04、Dana <…>のメール:"), Thunderbird ja',
    endsWith: ['のメール', 'のメッセージ', '書きました'],
    pattern: /^.{1,480}(?:のメール|のメッセージ|が書きました|は書きました)\s?[:：]$/u,
    needsColon: true,
    evidence: 'digit-or-at',
  },
  {
    id: 'ko-wrote',
    clients: 'Gmail ko ("2026년 11월 20일 (금) 오후 3:04, Dana <…>님이 작성:")',
    endsWith: ['작성'],
    pattern: /^.{1,480}(?:님이\s?작성|작성)\s?[:：]$/u,
    needsColon: true,
    evidence: 'digit-or-at',
  },
  // ── Numeric date, no verb (old Gmail, Gmail ja) ──────────────────────────
  {
    id: 'gmail-iso-date',
    clients: 'Gmail 2013–2017 ("2016-03-03 17:21 GMT+01:00 Dana <dana@x>:", often wrapped)',
    includes: [' gmt'],
    pattern: /^\d{4}-\d{2}-\d{2}\s\d{1,2}:\d{2}\sGMT[+-]\d{1,2}:\d{2}(?:\s.{1,400})?$/,
    needsColon: false,
    evidence: 'none',
  },
  {
    id: 'gmail-slash-date',
    clients: 'Gmail before 2014 ("2013/7/20 Dana <dana@x>")',
    endsWith: ['>'],
    pattern: /^\d{4}\/\d{1,2}\/\d{1,2}\s[^<>]{1,300}<[^<>\s]{1,200}@[^<>\s]{1,200}>\s?:?$/,
    needsColon: false,
    evidence: 'none',
  },
  {
    id: 'date-name-address',
    clients: 'Gmail ja/ru ("2026年11月20日(金) 15:04 Dana <dana@x>:", "пт, 20 нояб. 2026 г. в 15:04, Dana <dana@x>:")',
    endsWith: ['>'],
    pattern: /^[^<>]{1,300}<[^<>\s]{1,200}@[^<>\s]{1,200}>\s?[:：]$/u,
    needsColon: true,
    evidence: 'digit',
  },
];

/**
 * First words of an attribution that a client wrapped over several lines
 * ("On Thu, 31 Mar 2016 at 11:16 Some One" … "> wrote:"). When the engine
 * finds the line that ends an attribution, it looks up to a few lines above
 * for one of these to know where the attribution starts, so that no piece of
 * it is left in the kept text. An opener line must also hold a digit (date).
 */
export const ATTRIBUTION_OPENERS: readonly RegExp[] = [
  /^(?:On|At|Le|Am|Op|El|Em|Il|Den|Dnia|W\sdniu|Dne)\s.{0,480}$/iu,
  /^(?:在|於|于)\s?.{0,480}$/u,
  /^\d.{0,480}$/u,
];

/** How far up a wrapped attribution may reach (non-blank lines, and all lines). */
export const ATTRIBUTION_LOOKBACK_LINES = 4;
export const ATTRIBUTION_LOOKBACK_SPAN = 6;
