/**
 * Header blocks: Outlook (desktop, web, Mac, iOS/Android), Apple Mail
 * forwards, Gmail forwards and Exchange-based webmails do not write an
 * "On … wrote:" line: they copy the quoted message's headers, localised:
 *
 *   From: Dana Lee <dana@contoso.example>          寄件者: Dana Lee
 *   Sent: Friday, November 20, 2026 3:04 PM        寄件日期: 2026年11月20日 下午 03:04
 *   To: Alice Chen                                 收件者: Alice Chen
 *   Subject: [Mailgrant] Figma Professional         主旨: [Mailgrant] Figma Professional
 *
 * Outlook writes names only when the address is in the address book, so the
 * engine never requires an address. Gmail shows Outlook's bold labels as
 * "*From:*". French Outlook puts a (non-breaking) space before the colon.
 *
 * The engine reads a label as the text before the first ':' or '：' within
 * the first MAX_LABEL_LENGTH characters, strips '*' and spaces, lower-cases it
 * and looks it up here: no regular expression is involved.
 */

export type HeaderField = 'from' | 'date' | 'to' | 'cc' | 'subject' | 'replyTo' | 'other';

export const MAX_LABEL_LENGTH = 40;

/** Labels per language, as Outlook and the other clients print them. */
export const HEADER_LABELS: Readonly<Record<string, Readonly<Partial<Record<HeaderField, readonly string[]>>>>> = {
  en: {
    from: ['From'],
    date: ['Sent', 'Date'],
    to: ['To'],
    cc: ['Cc'],
    subject: ['Subject'],
    replyTo: ['Reply-To', 'Reply to'],
    other: ['Bcc', 'Importance', 'Attachments'],
  },
  fr: {
    from: ['De', 'Expéditeur'],
    date: ['Envoyé', 'Date', 'Envoyé le'],
    to: ['À', 'A', 'Destinataire', 'Destinataires'],
    cc: ['Cc', 'Cci'],
    subject: ['Objet'],
    replyTo: ['Répondre à'],
    other: ['Importance', 'Pièces jointes'],
  },
  de: {
    from: ['Von'],
    date: ['Gesendet', 'Datum'],
    to: ['An'],
    cc: ['Cc', 'Bcc'],
    subject: ['Betreff'],
    replyTo: ['Antwort an'],
    other: ['Wichtigkeit', 'Anlagen'],
  },
  it: {
    from: ['Da'],
    date: ['Inviato', 'Data'],
    to: ['A'],
    cc: ['Cc', 'Ccn'],
    subject: ['Oggetto'],
    replyTo: ['Risposta', 'Rispondi a'],
    other: ['Priorità', 'Allegati'],
  },
  es: {
    from: ['De'],
    date: ['Enviado', 'Enviado el', 'Fecha'],
    to: ['Para'],
    cc: ['CC', 'CCO'],
    subject: ['Asunto'],
    replyTo: ['Responder a'],
    other: ['Importancia', 'Datos adjuntos'],
  },
  pt: {
    from: ['De'],
    date: ['Enviado', 'Enviada em', 'Enviado em', 'Data'],
    to: ['Para'],
    cc: ['Cc', 'Cco'],
    subject: ['Assunto'],
    replyTo: ['Responder a'],
  },
  nl: {
    from: ['Van'],
    date: ['Verzonden', 'Datum'],
    to: ['Aan'],
    cc: ['CC', 'BCC'],
    subject: ['Onderwerp'],
    replyTo: ['Beantwoorden - Aan', 'Antwoord aan'],
    other: ['Urgentie', 'Bijlagen'],
  },
  'zh-TW': {
    from: ['寄件者', '寄件人'],
    date: ['寄件日期', '日期', '傳送時間'],
    to: ['收件者', '收件人'],
    cc: ['副本', '密件副本'],
    subject: ['主旨'],
    replyTo: ['回覆至'],
    other: ['重要性', '附件'],
  },
  'zh-CN': {
    from: ['发件人'],
    date: ['发送时间', '日期', '时间'],
    to: ['收件人'],
    cc: ['抄送', '密送'],
    subject: ['主题'],
    other: ['重要性', '附件'],
  },
  sv: {
    from: ['Från'],
    date: ['Skickat', 'Datum'],
    to: ['Till'],
    cc: ['Kopia'],
    subject: ['Ämne'],
    replyTo: ['Svara till'],
  },
  'no-da': {
    from: ['Fra'],
    date: ['Sendt', 'Dato'],
    to: ['Til'],
    cc: ['Kopi', 'Cc'],
    subject: ['Emne'],
    replyTo: ['Svar til'],
  },
  ru: {
    from: ['От', 'От кого'],
    date: ['Отправлено', 'Дата'],
    to: ['Кому'],
    cc: ['Копия'],
    subject: ['Тема'],
  },
  pl: {
    from: ['Od'],
    date: ['Wysłano', 'Data'],
    to: ['Do'],
    cc: ['DW', 'UDW'],
    subject: ['Temat'],
  },
  cs: {
    from: ['Od'],
    date: ['Odesláno', 'Datum'],
    to: ['Komu'],
    cc: ['Kopie'],
    subject: ['Předmět'],
  },
  fi: {
    from: ['Lähettäjä'],
    date: ['Lähetetty', 'Päivämäärä'],
    to: ['Vastaanottaja'],
    cc: ['Kopio'],
    subject: ['Aihe'],
  },
  tr: {
    from: ['Kimden'],
    date: ['Gönderildi', 'Tarih'],
    to: ['Kime'],
    cc: ['Bilgi'],
    subject: ['Konu'],
  },
  ja: {
    from: ['差出人', '送信者'],
    date: ['送信日時', '日付'],
    to: ['宛先'],
    subject: ['件名'],
  },
  ko: {
    from: ['보낸 사람'],
    date: ['보낸 날짜'],
    to: ['받는 사람'],
    cc: ['참조'],
    subject: ['제목'],
  },
};

/**
 * When is a run of header lines a quoted message's header block and not
 * someone's prose that happens to contain "To:"? At least MIN_LINES labelled
 * lines of MIN_FIELDS different fields, one of them From or the date.
 * MAX_SPAN caps how far the engine reads one block (a long run of "寄件者："
 * lines must not make it quadratic); continuation lines (a Subject or To that
 * Outlook wrapped) are allowed, MAX_CONTINUATION in a row.
 */
export const HEADER_BLOCK = {
  MIN_LINES: 3,
  MIN_FIELDS: 3,
  MAX_SPAN: 16,
  MAX_CONTINUATION: 2,
} as const;

/**
 * Subject prefixes that mark a forward ("FW:" Outlook en, "TR:" Outlook fr,
 * "WG:" Outlook de, "RV:" Outlook es, "I:" Outlook it, "轉寄:" Outlook zh-TW,
 * "转发:" Outlook zh-CN, "Fwd:" Gmail/Apple…). Compared lower-cased, before
 * the first ':' or '：' of the subject.
 */
export const FORWARD_SUBJECT_PREFIXES: readonly string[] = [
  'fw', 'fwd', 'tr', 'wg', 'rv', 'i', 'enc', 'doorst', 'vs', 'vb', 'vl', 'pd', 'pošli', 'пересл',
  '轉寄', '转发', '轉送', '转寄', '回覆轉寄',
];
