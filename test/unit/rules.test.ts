import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXAMPLE_RULES_YAML } from '../../src/config/example-rules.js';
import { loadRules, parseRules, RulesError } from '../../src/config/rules.js';

function problemsOf(yaml: string): string[] {
  try {
    parseRules(yaml, 'rules.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(RulesError);
    return [...(err as RulesError).problems];
  }
  throw new Error('expected the rules to be refused');
}

describe('rules file', () => {
  it('accepts the bundled example and exposes lookups', () => {
    const rules = parseRules(EXAMPLE_RULES_YAML, 'example');
    expect(rules.organization.domain).toBe('contoso.example');
    expect(rules.retention.text).toBe('12 months');
    expect(rules.product('visio-plan-2')?.aliases).toContain('visio');
    expect(rules.user('ALICE@contoso.example')?.name).toBe('Alice Wong');
    expect(rules.localeOf('remi@contoso.example')).toBe('fr');
    expect(rules.localeOf('bob@contoso.example')).toBe('en');
    expect(rules.admin('dana@contoso.example')?.role).toBe('license-admin');
    expect(Object.isFrozen(rules)).toBe(true);
  });

  it('names the key path and what was expected for a wrong type', () => {
    const bad = EXAMPLE_RULES_YAML.replace('seats: 10', 'seats: ten');
    const problems = problemsOf(bad);
    expect(problems.some((p) => p.startsWith('products[0].seats:') && /number/.test(p))).toBe(true);
  });

  it('names an unknown key with its path', () => {
    const bad = EXAMPLE_RULES_YAML.replace('    approvers: [dana@contoso.example]\n    securityGroup', '    aprovers: [dana@contoso.example]\n    approvers: [dana@contoso.example]\n    securityGroup');
    expect(problemsOf(bad)).toContainEqual('products[0]: unknown key "aprovers"');
  });

  it('reports every problem at once, including references between sections', () => {
    const bad = EXAMPLE_RULES_YAML
      .replace('locale: en                          #', 'locale: de #')
      .replace('securityGroup: Visio Users', 'securityGroup: Nobody')
      .replace('approvers: [dana@contoso.example] }', 'approvers: [zed@contoso.example] }')
      .replace('retention: 12 months', 'retention: forever');
    const problems = problemsOf(bad);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^organization\.locale: expected one of en, fr, zh-TW/),
        expect.stringMatching(/^retention: expected a duration/),
      ]),
    );
    // Schema errors come first; cross-references are checked once the shapes are right.
    const fixedShapes = EXAMPLE_RULES_YAML.replace('securityGroup: Visio Users', 'securityGroup: Nobody').replace('approvers: [dana@contoso.example] }', 'approvers: [zed@contoso.example] }');
    expect(problemsOf(fixedShapes)).toEqual([
      'products[0].securityGroup: no group named "Nobody" in directory.groups',
      'products[1].approvers[0]: zed@contoso.example is neither in directory.users nor in admins',
    ]);
  });

  it('refuses malformed YAML and a missing required section with a clear message', () => {
    expect(problemsOf('organization: [unclosed')[0]).toMatch(/^YAML:/);
    const problems = problemsOf('organization: { name: X, mailbox: x@x.example }\ndirectory: {}\n');
    expect(problems).toContainEqual(expect.stringMatching(/^products: required/));
  });

  it('the error message names the file', () => {
    expect(() => parseRules('products: 3', '/etc/mailgrant/rules.yaml')).toThrow(/\/etc\/mailgrant\/rules\.yaml is invalid/);
  });

  it('falls back to the example when the file does not exist, and reads a real file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mg-rules-'));
    expect(loadRules(join(dir, 'missing.yaml')).usedExample).toBe(true);
    const file = join(dir, 'rules.yaml');
    writeFileSync(file, EXAMPLE_RULES_YAML.replace('name: Contoso', 'name: Fabrikam'));
    const loaded = loadRules(file);
    expect(loaded.usedExample).toBe(false);
    expect(loaded.rules.organization.name).toBe('Fabrikam');
  });
});
