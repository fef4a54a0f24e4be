/**
 * Signatures. Everything from a signature down is dropped: a signature sits
 * below what the person wrote and above the quoted message.
 *
 *  - The Usenet delimiter "-- " (RFC 3676 §4.3), which many clients also send
 *    without the trailing space ("--").
 *  - The lines phones and apps add by themselves ("Sent from my iPhone",
 *    "從我的 iPhone 傳送", "Get Outlook for iOS"). They are tested only on lines
 *    of at most MAX_SIGNATURE_LINE characters that are not quoted.
 *
 * Every pattern is anchored ^…$ with bounded repetition.
 */

/** Lines (after trimming the end) that open a signature block. */
export const SIGNATURE_DELIMITERS: readonly string[] = ['--', '-- '];

export const MAX_SIGNATURE_LINE = 160;

export interface SignatureRule {
  readonly lang: string;
  /** The device or app that writes it. */
  readonly clients: string;
  /**
   * Literal pre-checks on the lower-cased line so that the pattern only runs on
   * lines that already begin (startsWith) or end (endsWith) with the rule's
   * words: one of the listed words must hold.
   */
  readonly startsWith?: readonly string[];
  readonly endsWith?: readonly string[];
  readonly pattern: RegExp;
}

export const MOBILE_SIGNATURES: readonly SignatureRule[] = [
  // ── English ──────────────────────────────────────────────────────────────
  {
    lang: 'en',
    clients: 'iOS Mail, Samsung, BlackBerry, Yahoo, Outlook mobile, Mail for Windows, Airmail ("Sent from my iPhone", "(Sent from mobile device)", "<<sent by galaxy>>")',
    startsWith: ['sent ', '(sent ', '<sent ', '((sent ', '<<sent ', '(<sent ', '<(sent '], pattern: /^[(<]{0,2}sent (?:from|with|via|using|by) .{1,120}$/i,
  },
  { lang: 'en', clients: 'Outlook for iOS/Android ("Get Outlook for iOS<https://aka.ms/o0ukef>")', startsWith: ['get '], pattern: /^get \[?outlook for (?:ios|android).{0,120}$/i },
  { lang: 'en', clients: 'Outlook for iOS/Android (older)', startsWith: ['download '], pattern: /^download outlook for (?:ios|android).{0,120}$/i },
  {
    lang: 'en',
    clients: 'Android and iOS custom footers ("From my iPhone 6", "Someone from mobile")',
    startsWith: ['from my '], endsWith: [' from mobile'], pattern: /^(?:from my (?:iphone|ipad|android|mobile|phone|samsung|galaxy|blackberry|pixel)|\S{1,30} from mobile)\b.{0,60}$/i,
  },
  // ── French ───────────────────────────────────────────────────────────────
  {
    lang: 'fr',
    clients: 'iOS Mail fr ("Envoyé de mon iPhone"), Android ("Envoyé depuis mon appareil mobile"), Courrier Windows, Yahoo fr',
    startsWith: ['envoyé ', 'envoye '], pattern: /^envoy[ée] (?:de|depuis|à partir de|a partir de) (?:mon|ma|mes|yahoo|outlook|courrier|l'application|l’application).{0,120}$/iu,
  },
  { lang: 'fr', clients: 'Outlook for iOS/Android fr', startsWith: ['obtenir ', 'télécharger '], pattern: /^(?:obtenir|télécharger) outlook pour (?:ios|android).{0,120}$/iu },
  // ── German ───────────────────────────────────────────────────────────────
  { lang: 'de', clients: 'iOS Mail de ("Von meinem iPhone gesendet")', startsWith: ['von meinem '], pattern: /^von meinem .{1,80} gesendet\.?$/iu },
  { lang: 'de', clients: 'Android de, Mail für Windows ("Gesendet von meinem …")', startsWith: ['gesendet '], pattern: /^gesendet (?:von|mit) .{1,120}$/iu },
  { lang: 'de', clients: 'K-9 Mail de', startsWith: ['diese nachricht '], pattern: /^diese nachricht wurde von .{1,120} gesendet\.?$/iu },
  { lang: 'de', clients: 'Outlook for iOS/Android de', startsWith: ['outlook für '], pattern: /^outlook für (?:ios|android) (?:beziehen|herunterladen).{0,120}$/iu },
  // ── Spanish, Portuguese, Italian ─────────────────────────────────────────
  { lang: 'es', clients: 'iOS Mail es, Android es, Yahoo es', startsWith: ['enviado desde '], pattern: /^enviado desde (?:mi|yahoo|outlook|correo).{0,120}$/iu },
  { lang: 'es', clients: 'Outlook for iOS/Android es', startsWith: ['obtener '], pattern: /^obtener outlook para (?:ios|android).{0,120}$/iu },
  { lang: 'pt', clients: 'iOS Mail pt ("Enviado do meu iPhone")', startsWith: ['enviado ', 'enviada '], pattern: /^enviad[oa] (?:do meu|da minha|a partir do|pelo) .{1,120}$/iu },
  { lang: 'it', clients: 'iOS Mail it ("Inviato da iPhone"), Outlook mobile it', startsWith: ['inviato da '], pattern: /^inviato da .{1,120}$/iu },
  // ── Dutch, Nordic ────────────────────────────────────────────────────────
  { lang: 'nl', clients: 'iOS Mail nl, BlackBerry Work', startsWith: ['verzonden ', 'verstuurd '], pattern: /^(?:verzonden|verstuurd) (?:met|vanaf|van|vanuit) .{1,120}$/iu },
  { lang: 'sv', clients: 'iOS Mail sv ("Skickat från min iPhone")', startsWith: ['skickat från '], pattern: /^skickat från .{1,120}$/iu },
  { lang: 'no-da', clients: 'iOS Mail no/da ("Sendt fra min iPad")', startsWith: ['sendt fra '], pattern: /^sendt fra .{1,120}$/iu },
  { lang: 'fi', clients: 'iOS Mail fi ("Lähetetty iPhonesta")', startsWith: ['lähetetty '], pattern: /^lähetetty .{1,60}(?:sta|stä)$/iu },
  // ── Slavic ───────────────────────────────────────────────────────────────
  { lang: 'ru', clients: 'iOS Mail ru ("Отправлено с iPhone")', startsWith: ['отправлено '], pattern: /^отправлено (?:с|из|со) .{1,120}$/iu },
  { lang: 'pl', clients: 'iOS Mail pl ("Wysłane z iPhone’a")', startsWith: ['wysłane z '], pattern: /^wysłane z .{1,120}$/iu },
  // ── Chinese ──────────────────────────────────────────────────────────────
  { lang: 'zh-TW', clients: 'iOS Mail zh-TW ("從我的 iPhone 傳送"), Samsung zh-TW', startsWith: ['從我的'], pattern: /^從我的\s?.{1,60}傳送。?$/u },
  { lang: 'zh-TW', clients: 'Mail for Windows zh-TW ("從 Windows 版郵件傳送")', startsWith: ['從'], pattern: /^從\s?.{1,40}郵件傳送。?$/u },
  { lang: 'zh-TW', clients: 'Outlook for iOS/Android zh-TW ("取得 iOS 版 Outlook")', startsWith: ['取得'], pattern: /^取得\s?(?:iOS|Android|Outlook).{0,60}$/iu },
  { lang: 'zh-CN', clients: 'iOS Mail zh-CN ("从我的iPhone发送", "发自我的iPhone")', startsWith: ['从我的', '发自我的'], pattern: /^(?:从我的\s?.{1,60}发送|发自我的\s?.{1,60})。?$/u },
  { lang: 'zh-CN', clients: 'Outlook for iOS/Android zh-CN ("获取 iOS 版 Outlook")', startsWith: ['获取'], pattern: /^获取\s?(?:iOS|Android|Outlook).{0,60}$/iu },
  // ── Japanese, Korean ─────────────────────────────────────────────────────
  { lang: 'ja', clients: 'iOS Mail ja ("iPhoneから送信")', endsWith: ['から送信'], pattern: /^.{1,30}から送信$/u },
  { lang: 'ko', clients: 'iOS Mail ko ("iPhone에서 보냄")', endsWith: ['에서 보냄'], pattern: /^.{1,30}에서 보냄$/u },
];
