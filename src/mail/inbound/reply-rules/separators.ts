/**
 * Separator lines: a line that says "everything below is an earlier message".
 *
 * Two styles exist:
 *  - dashed: the label between runs of dashes, "-----Original Message-----"
 *    (Outlook), "-------- Forwarded Message --------" (Thunderbird),
 *    "---------- Forwarded message ---------" (Gmail), "----- 原始郵件 -----";
 *  - colon: a sentence that ends in a colon, "Begin forwarded message:" (Apple).
 *
 * The engine strips quote markers, asterisks (Gmail shows Outlook's bold as
 * "*-----Original Message-----*"), the dashes and the colon, lower-cases what
 * is left and looks it up in these lists: a set lookup, no regular expression.
 */

export type SeparatorKind = 'original' | 'forward';

export interface SeparatorLabel {
  readonly label: string;
  readonly kind: SeparatorKind;
  /** The mail clients that write it. */
  readonly clients: string;
}

/** Labels written between dashes; at least two dashes on each side. */
export const DASHED_SEPARATORS: readonly SeparatorLabel[] = [
  // Reply/original-message separators
  { label: 'Original Message', kind: 'original', clients: 'Outlook en, Thunderbird, Yahoo, Zimbra, Samsung Email' },
  { label: 'Reply Message', kind: 'original', clients: 'Samsung Email, Android stock mail' },
  { label: "Message d'origine", kind: 'original', clients: 'Outlook fr' },
  { label: 'Message d’origine', kind: 'original', clients: 'Outlook fr (typographic apostrophe)' },
  { label: 'Message original', kind: 'original', clients: 'Thunderbird fr, Yahoo fr' },
  { label: 'Ursprüngliche Nachricht', kind: 'original', clients: 'Outlook de' },
  { label: 'Originalnachricht', kind: 'original', clients: 'Thunderbird de' },
  { label: 'Mensaje original', kind: 'original', clients: 'Outlook es, Windows Phone' },
  { label: 'Mensagem original', kind: 'original', clients: 'Outlook pt' },
  { label: 'Messaggio originale', kind: 'original', clients: 'Outlook it' },
  { label: 'Oorspronkelijk bericht', kind: 'original', clients: 'Outlook nl' },
  { label: 'Origineel bericht', kind: 'original', clients: 'Thunderbird nl' },
  { label: 'Ursprungligt meddelande', kind: 'original', clients: 'Outlook sv' },
  { label: 'Opprinnelig melding', kind: 'original', clients: 'Outlook no' },
  { label: 'Oprindelig meddelelse', kind: 'original', clients: 'Outlook da' },
  { label: 'Alkuperäinen viesti', kind: 'original', clients: 'Outlook fi' },
  { label: 'Исходное сообщение', kind: 'original', clients: 'Outlook ru' },
  { label: 'Oryginalna wiadomość', kind: 'original', clients: 'Outlook pl' },
  { label: 'Wiadomość oryginalna', kind: 'original', clients: 'Thunderbird pl' },
  { label: 'Původní zpráva', kind: 'original', clients: 'Outlook cs' },
  { label: '原始郵件', kind: 'original', clients: 'Outlook zh-TW' },
  { label: '原始邮件', kind: 'original', clients: 'QQ Mail, Foxmail, Outlook zh-CN' },
  { label: '邮件原件', kind: 'original', clients: 'Outlook zh-CN (plain text)' },
  { label: '原始訊息', kind: 'original', clients: 'Yahoo zh-TW' },
  { label: '元のメッセージ', kind: 'original', clients: 'Outlook ja' },
  { label: '원본 메시지', kind: 'original', clients: 'Outlook ko' },
  // Forward separators
  { label: 'Forwarded message', kind: 'forward', clients: 'Gmail en; Thunderbird/Yahoo ("Forwarded Message")' },
  { label: 'Forwarded e-mail', kind: 'forward', clients: 'Zimbra' },
  { label: 'Message transféré', kind: 'forward', clients: 'Gmail fr, Thunderbird fr' },
  { label: 'Weitergeleitete Nachricht', kind: 'forward', clients: 'Gmail de, Thunderbird de' },
  { label: 'Mensaje reenviado', kind: 'forward', clients: 'Gmail es' },
  { label: 'Messaggio inoltrato', kind: 'forward', clients: 'Gmail it' },
  { label: 'Mensagem encaminhada', kind: 'forward', clients: 'Gmail pt' },
  { label: 'Doorgestuurd bericht', kind: 'forward', clients: 'Gmail nl' },
  { label: 'Vidarebefordrat meddelande', kind: 'forward', clients: 'Gmail sv' },
  { label: 'Videresendt melding', kind: 'forward', clients: 'Gmail no' },
  { label: 'Videresendt meddelelse', kind: 'forward', clients: 'Gmail da' },
  { label: 'Välitetty viesti', kind: 'forward', clients: 'Gmail fi' },
  { label: 'Пересылаемое сообщение', kind: 'forward', clients: 'Gmail ru' },
  { label: 'Wiadomość przekazana dalej', kind: 'forward', clients: 'Gmail pl' },
  { label: 'Přeposlaná zpráva', kind: 'forward', clients: 'Gmail cs' },
  { label: '轉寄的郵件', kind: 'forward', clients: 'Gmail zh-TW' },
  { label: '转发的邮件', kind: 'forward', clients: 'Gmail zh-CN' },
  { label: '轉寄郵件', kind: 'forward', clients: 'Yahoo zh-TW' },
  { label: '转发邮件', kind: 'forward', clients: 'QQ Mail' },
  { label: '転送されたメッセージ', kind: 'forward', clients: 'Gmail ja' },
  { label: '전달된 메시지', kind: 'forward', clients: 'Gmail ko' },
];

/** Labels written as a sentence ending in ':' or '：' (Apple Mail and iOS forwards). */
export const COLON_SEPARATORS: readonly SeparatorLabel[] = [
  { label: 'Begin forwarded message', kind: 'forward', clients: 'Apple Mail/iOS en' },
  { label: 'Début du message réexpédié', kind: 'forward', clients: 'Apple Mail/iOS fr' },
  { label: 'Début du message transféré', kind: 'forward', clients: 'Apple Mail fr (older)' },
  { label: 'Anfang der weitergeleiteten Nachricht', kind: 'forward', clients: 'Apple Mail/iOS de' },
  { label: 'Inicio del mensaje reenviado', kind: 'forward', clients: 'Apple Mail/iOS es' },
  { label: 'Inizio messaggio inoltrato', kind: 'forward', clients: 'Apple Mail/iOS it' },
  { label: 'Início da mensagem reencaminhada', kind: 'forward', clients: 'Apple Mail/iOS pt-PT' },
  { label: 'Início da mensagem encaminhada', kind: 'forward', clients: 'Apple Mail/iOS pt-BR' },
  { label: 'Begin doorgestuurd bericht', kind: 'forward', clients: 'Apple Mail/iOS nl' },
  { label: 'Vidarebefordrat brev', kind: 'forward', clients: 'Apple Mail/iOS sv' },
  { label: 'Videresendt melding', kind: 'forward', clients: 'Apple Mail/iOS no' },
  { label: 'Начало переадресованного сообщения', kind: 'forward', clients: 'Apple Mail/iOS ru' },
  { label: 'Początek przekazanej wiadomości', kind: 'forward', clients: 'Apple Mail/iOS pl' },
  { label: '轉寄的郵件', kind: 'forward', clients: 'Apple Mail/iOS zh-TW' },
  { label: '转发的邮件', kind: 'forward', clients: 'Apple Mail/iOS zh-CN' },
  { label: '以下是转发的邮件', kind: 'forward', clients: 'Apple Mail zh-CN (older)' },
  { label: '転送されたメッセージ', kind: 'forward', clients: 'Apple Mail/iOS ja' },
  { label: '전달된 메시지', kind: 'forward', clients: 'Apple Mail/iOS ko' },
];

/**
 * A line of punctuation only. On its own it is not a cut (Markdown writes
 * "---" and "***"), but Outlook draws one above its header block
 * ("________________________________", Gmail's rendering "-----------"): the
 * engine cuts at such a line when a header block, an attribution or a
 * separator follows within RULE_LOOKAHEAD lines.
 */
export const RULE_LINE = /^[-_=*~+#]{3,500}$/;
export const RULE_LOOKAHEAD = 3;

/**
 * Lines dropped from the END of the kept text: rules and marks that carry no
 * words, such as Gmail's Mailtrack mark "ᐧ" or an `<hr>` rendered as underscores.
 */
export const TRAILING_NOISE_LINE = /^[-_=*~+#.·•ᐧ\u200b\ufeff]{1,500}$/u;
