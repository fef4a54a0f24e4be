import { describe, expect, it } from 'vitest';
import { EXAMPLE_RULES_YAML } from '../../src/config/example-rules.js';
import { parseRules } from '../../src/config/rules.js';
import { matchPeople } from '../../src/requests/people-match.js';
import { matchProducts } from '../../src/requests/product-match.js';
import { hashToken, newToken, tokensFromAddresses, tokensFromMessageIds } from '../../src/requests/tokens.js';

const rules = parseRules(EXAMPLE_RULES_YAML, 'example');
const ids = (text: string) => matchProducts(text, rules.products).map((p) => p.id);

describe('request parsing: products', () => {
  it('finds a product by name or alias in any case, as a whole word', () => {
    expect(ids('Licence request: VISIO please')).toEqual(['visio-plan-2']);
    expect(ids('I need visio plan 2 for diagrams')).toEqual(['visio-plan-2']);
    expect(ids('申請 Visio 方案 2')).toEqual(['visio-plan-2']);
    expect(ids('We envisioned a new process')).toEqual([]);
  });
  it('lists several products in order of mention', () => {
    expect(ids('Acme Diagrams, or else Visio')).toEqual(['acme-diagrams', 'visio-plan-2']);
  });
});

describe('request parsing: people', () => {
  it('finds addresses, full names and items of an "also for" line', () => {
    const m = matchPeople('Please add bob@contoso.example and Carol Jones.\nAlso for: remi', rules, ['alice@contoso.example']);
    expect(m.users.map((u) => u.email).sort()).toEqual(['bob@contoso.example', 'carol@contoso.example', 'remi@contoso.example']);
    expect(m.unknown).toEqual([]);
  });
  it('reports people who are not in the directory', () => {
    const m = matchPeople('Also for: bob, zed\nand mallory@contoso.example', rules, ['alice@contoso.example']);
    expect(m.users.map((u) => u.email)).toEqual(['bob@contoso.example']);
    expect(m.unknown).toEqual(['mallory@contoso.example', 'zed']);
  });
  it('never adds the sender or the mailbox itself', () => {
    const m = matchPeople('alice@contoso.example wrote to licenses@contoso.example', rules, ['alice@contoso.example', 'licenses@contoso.example']);
    expect(m).toEqual({ users: [], unknown: [] });
  });
});

describe('reply tokens', () => {
  it('are 128-bit, lower-case base32, stored only as a hash', () => {
    const a = newToken();
    expect(a).toMatch(/^[a-z2-7]{26}$/);
    expect(newToken()).not.toBe(a);
    expect(hashToken(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashToken(a.toUpperCase())).toBe(hashToken(a));
  });
  it('are found in the plus address and in In-Reply-To/References, only for our domain', () => {
    const t = newToken();
    expect(tokensFromAddresses([`Licenses+${t.toUpperCase()}@Contoso.example`, `other+${t}@contoso.example`], 'licenses@contoso.example')).toEqual([t]);
    expect(tokensFromAddresses([`licenses+${t}@evil.example`], 'licenses@contoso.example')).toEqual([]);
    expect(tokensFromMessageIds([`<share.${t}.abc123@contoso.example>`, `<share.${t}.abc123@evil.example>`], 'contoso.example')).toEqual([t]);
  });
});
