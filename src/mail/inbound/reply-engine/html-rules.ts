/**
 * Matching an HTML element against the quote-markup rules (../reply-rules/quote-html.ts).
 * Runs for every start tag, so the rules are indexed by tag once: an element
 * without any attribute that a rule reads (id, class, style, type, cite,
 * hidden) only meets the rules of its own tag name.
 */
import { HTML_QUOTE_RULES, type HtmlQuoteRule } from '../reply-rules/quote-html.js';

/** Outlook on the web and Outlook for iOS/Android prefix every id of a displayed message with "x_". */
function normaliseId(id: string): string {
  let s = id;
  for (let n = 0; n < 8 && s.startsWith('x_'); n++) s = s.slice(2);
  return s;
}

/** Attributes that some rule looks at: an element with none of them only meets its tag's rules. */
const RULE_ATTRIBUTES: readonly string[] = [
  ...new Set(
    HTML_QUOTE_RULES.flatMap((r) => [
      ...(r.idEquals !== undefined || r.idStartsWith !== undefined ? ['id'] : []),
      ...(r.classContains !== undefined ? ['class'] : []),
      ...(r.styleContains !== undefined ? ['style'] : []),
      ...(r.attribute !== undefined ? [r.attribute.name] : []),
    ]),
  ),
];
/** Rules per tag name, in their order in HTML_QUOTE_RULES (first match wins): the tag's own rules and the tag-less ones. */
const UNTAGGED_RULES: readonly HtmlQuoteRule[] = HTML_QUOTE_RULES.filter((r) => r.tag === undefined);
const RULES_BY_TAG: ReadonlyMap<string, readonly HtmlQuoteRule[]> = new Map(
  [...new Set(HTML_QUOTE_RULES.flatMap((r) => (r.tag === undefined ? [] : [r.tag])))].map((tag) => [
    tag,
    HTML_QUOTE_RULES.filter((r) => r.tag === undefined || r.tag === tag),
  ]),
);
const TAG_ONLY_RULES: ReadonlyMap<string, readonly HtmlQuoteRule[]> = new Map(
  [...RULES_BY_TAG].map(([tag, rules]) => [tag, rules.filter((r) => r.tag === tag)]),
);

function hasRuleAttribute(attribs: Readonly<Record<string, string>>): boolean {
  for (const name of RULE_ATTRIBUTES) if (attribs[name] !== undefined) return true;
  return false;
}

/** The first rule (in HTML_QUOTE_RULES order) that the element meets, or null. */
export function matchRule(name: string, attribs: Readonly<Record<string, string>>): HtmlQuoteRule | null {
  const withAttributes = hasRuleAttribute(attribs);
  const rules = withAttributes ? (RULES_BY_TAG.get(name) ?? UNTAGGED_RULES) : TAG_ONLY_RULES.get(name);
  if (rules === undefined || rules.length === 0) return null;
  const id = attribs.id !== undefined ? normaliseId(attribs.id) : undefined;
  const cls = attribs.class;
  const rawStyle = attribs.style === undefined ? undefined : attribs.style.slice(0, 2000).toLowerCase();
  let style: string | undefined;
  for (const rule of rules) {
    if (rule.idEquals !== undefined && id !== rule.idEquals) continue;
    if (rule.idStartsWith !== undefined && !(id?.startsWith(rule.idStartsWith) ?? false)) continue;
    if (rule.classContains !== undefined && !(cls?.includes(rule.classContains) ?? false)) continue;
    if (rule.attribute !== undefined) {
      const value = attribs[rule.attribute.name];
      if (value === undefined) continue;
      if (rule.attribute.equals !== undefined && value.toLowerCase() !== rule.attribute.equals) continue;
    }
    if (rule.styleContains !== undefined) {
      // Compare without spaces ("border-top: solid" = "border-top:solid"), after a cheap check on the property name.
      if (rawStyle === undefined || !rawStyle.includes(rule.styleContains.slice(0, rule.styleContains.indexOf(':')))) continue;
      style ??= rawStyle.replace(/\s+/g, '');
      if (!style.includes(rule.styleContains)) continue;
    }
    return rule;
  }
  return null;
}

/** Markup that holds a quoted message (not a signature, not an Outlook element still waiting for its header line). */
export function isQuoteMarkup(rule: HtmlQuoteRule | null): boolean {
  return rule !== null && (rule.action === 'container' || (rule.action === 'boundary' && rule.whenHeaderFollows !== true));
}
