/**
 * HTML elements that mark the quoted message, a signature, or content that is
 * never text, per mail client.
 *
 * What the engine does on meeting an element that matches (first rule wins):
 *  - 'drop'      skip the element and what it contains, go on after it;
 *  - 'boundary'  the element and EVERYTHING after it in document order is the
 *                earlier message (Outlook puts the quoted body after its header
 *                div as siblings, not inside it);
 *  - 'container' the element holds the whole quote (Gmail, Apple, Yahoo…): if
 *                the person wrote something above it, stop here; if not (they
 *                wrote below the quote, "bottom-posting"), skip it and go on;
 *  - 'signature' like 'container', but it is not a quote.
 *
 * Element ids are compared after removing the "x_" prefixes that Outlook on
 * the web and Outlook for iOS/Android add to every id of a message they
 * display (a reply to a reply carries "x_divRplyFwdMsg", "x_x_appendonsend").
 */

export type HtmlRuleAction = 'drop' | 'boundary' | 'container' | 'signature';

export interface HtmlQuoteRule {
  readonly id: string;
  /** The client that writes this markup: why the rule exists. */
  readonly clients: string;
  readonly action: HtmlRuleAction;
  /** Tag name, lower case. */
  readonly tag?: string;
  /** Element id equals this, after "x_" prefixes are removed. */
  readonly idEquals?: string;
  /** Element id starts with this, after "x_" prefixes are removed. */
  readonly idStartsWith?: string;
  /** One of the element's class names contains this. */
  readonly classContains?: string;
  /** The element has this attribute (with this value, compared lower-cased, when given). */
  readonly attribute?: { readonly name: string; readonly equals?: string };
  /** The style attribute, lower-cased and without spaces, contains this. */
  readonly styleContains?: string;
  /**
   * Only when the first line of text from this element on is a header line
   * (From:, Sent:, 寄件者:, De :…). The engine decides this as soon as that line
   * is complete, without building a tree.
   */
  readonly whenHeaderFollows?: boolean;
}

export const HTML_QUOTE_RULES: readonly HtmlQuoteRule[] = [
  // ── Never text ───────────────────────────────────────────────────────────
  { id: 'head', clients: 'all', action: 'drop', tag: 'head' },
  { id: 'style', clients: 'all', action: 'drop', tag: 'style' },
  { id: 'script', clients: 'all', action: 'drop', tag: 'script' },
  { id: 'title', clients: 'all', action: 'drop', tag: 'title' },
  { id: 'template', clients: 'all', action: 'drop', tag: 'template' },
  { id: 'xml', clients: 'Outlook desktop (Word HTML: <xml> office settings)', action: 'drop', tag: 'xml' },
  { id: 'hidden', clients: 'newsletters and notification mail (hidden preheaders)', action: 'drop', styleContains: 'display:none' },
  { id: 'hidden-attr', clients: 'all', action: 'drop', attribute: { name: 'hidden' } },

  // ── Gmail ────────────────────────────────────────────────────────────────
  // <div class="gmail_quote gmail_quote_container"><div class="gmail_attr">On … wrote:</div><blockquote class="gmail_quote">
  { id: 'gmail-quote', clients: 'Gmail (web, Android, iOS)', action: 'container', classContains: 'gmail_quote' },
  { id: 'gmail-attr', clients: 'Gmail attribution div', action: 'container', classContains: 'gmail_attr' },
  { id: 'gmail-signature', clients: 'Gmail signature', action: 'signature', classContains: 'gmail_signature' },

  // ── Apple Mail, iOS Mail, and everyone who follows them ─────────────────
  { id: 'blockquote-cite', clients: 'Apple Mail, iOS Mail, Thunderbird, Roundcube', action: 'container', tag: 'blockquote', attribute: { name: 'type', equals: 'cite' } },

  // ── Outlook ──────────────────────────────────────────────────────────────
  { id: 'outlook-appendonsend', clients: 'Outlook on the web, new Outlook, Outlook for iOS/Android', action: 'boundary', idEquals: 'appendonsend' },
  { id: 'outlook-divrplyfwdmsg', clients: 'Outlook on the web, Outlook for iOS/Android (header div)', action: 'boundary', idEquals: 'divRplyFwdMsg' },
  { id: 'outlook-mac-source', clients: 'Outlook for Mac', action: 'boundary', idEquals: 'OLK_SRC_BODY_SECTION' },
  { id: 'outlook-reference', clients: 'new Outlook for Mac', action: 'boundary', idEquals: 'mail-editor-reference-message-container' },
  {
    id: 'outlook-border-top',
    clients: 'Outlook desktop (Word engine): <div style="border:none;border-top:solid #E1E1E1 1.0pt;…"><p><b>From:</b>…',
    action: 'boundary',
    styleContains: 'border-top:solid',
    whenHeaderFollows: true,
  },
  // Zimbra's <hr id="zwchr"> comes before the generic <hr> rule: the first matching rule wins.
  { id: 'zimbra-hr', clients: 'Zimbra (<hr id="zwchr"> then the quote, to the end)', action: 'boundary', tag: 'hr', idEquals: 'zwchr' },
  { id: 'hr-header', clients: 'Outlook desktop HTML mode, Outlook on the web (<hr> then From:/Sent:)', action: 'boundary', tag: 'hr', whenHeaderFollows: true },
  { id: 'outlook-signature', clients: 'Outlook on the web signature', action: 'signature', idEquals: 'Signature' },
  { id: 'outlook-mobile-signature', clients: 'Outlook for iOS/Android ("Get Outlook for iOS")', action: 'signature', idStartsWith: 'ms-outlook-mobile-signature' },
  { id: 'outlook-mobile-signature-class', clients: 'Outlook for iOS/Android', action: 'signature', classContains: 'ms-outlook-mobile-signature' },

  // ── Thunderbird ──────────────────────────────────────────────────────────
  // <div class="moz-cite-prefix">On … wrote:<br></div><blockquote type="cite" cite="mid:…">
  { id: 'moz-cite-prefix', clients: 'Thunderbird attribution', action: 'container', classContains: 'moz-cite-prefix' },
  { id: 'moz-forward', clients: 'Thunderbird forward', action: 'boundary', classContains: 'moz-forward-container' },
  { id: 'moz-signature', clients: 'Thunderbird signature', action: 'signature', classContains: 'moz-signature' },

  // ── Others ───────────────────────────────────────────────────────────────
  { id: 'yahoo-quoted', clients: 'Yahoo Mail (class "yahoo_quoted", "ydp…yahoo_quoted")', action: 'container', classContains: 'yahoo_quoted' },
  { id: 'yahoo-quoted-id', clients: 'Yahoo Mail', action: 'container', idStartsWith: 'yahoo_quoted' },
  { id: 'protonmail-quote', clients: 'Proton Mail', action: 'container', classContains: 'protonmail_quote' },
  { id: 'protonmail-signature', clients: 'Proton Mail signature', action: 'signature', classContains: 'protonmail_signature_block' },
  { id: 'zoho-quote', clients: 'Zoho Mail', action: 'container', classContains: 'zmail_extra' },
  { id: 'tutanota-quote', clients: 'Tuta (Tutanota)', action: 'container', classContains: 'tutanota_quote' },
  { id: 'yahoo-ios', clients: 'Yahoo Mail for iOS', action: 'container', tag: 'blockquote', idEquals: 'iosymail' },
  { id: 'yahoo-reply-content', clients: 'Yahoo Mail (older web)', action: 'container', idEquals: 'isReplyContent' },
  { id: 'yahoo-forward-content', clients: 'Yahoo Mail forward', action: 'container', idEquals: 'isForwardContent' },
  { id: 'gmx-quote', clients: 'GMX, WEB.DE', action: 'container', attribute: { name: 'name', equals: 'quote' } },
  { id: 'blockquote-with-cite', clients: 'generic: <blockquote cite="…">', action: 'container', tag: 'blockquote', attribute: { name: 'cite' } },
];

/** HTML elements after which text continues on a new line. */
export const BLOCK_TAGS: ReadonlySet<string> = new Set([
  'address', 'article', 'aside', 'blockquote', 'center', 'dd', 'div', 'dl', 'dt', 'fieldset', 'figcaption', 'figure',
  'footer', 'form', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'hr', 'li', 'main', 'nav', 'ol', 'p', 'pre', 'section',
  'table', 'tbody', 'thead', 'tfoot', 'tr', 'ul', 'body', 'html',
]);

/** Elements that never have a closing tag. */
export const VOID_TAGS: ReadonlySet<string> = new Set([
  'area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'param', 'source', 'track', 'wbr',
]);
