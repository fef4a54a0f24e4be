import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { MailgrantError } from '../shared/errors.js';
import type { Locale } from '../shared/locale.js';
import { mustParseDuration, type Duration } from './duration.js';
import { EXAMPLE_RULES_YAML } from './example-rules.js';
import { rulesSchema, type RulesData, type Role } from './rules-schema.js';

export type { Role } from './rules-schema.js';

export interface DirectoryUser { readonly email: string; readonly name: string; readonly locale: Locale | null }
export interface Admin { readonly email: string; readonly role: Role; readonly name: string }
export interface Group { readonly name: string; readonly members: readonly string[] }
export interface Product {
  readonly id: string;
  readonly name: string;
  readonly aliases: readonly string[];
  readonly seats: number;
  readonly servicePlans: readonly string[];
  readonly approvers: readonly string[];
  readonly securityGroup: string | null;
  readonly vendor: string | null;
  readonly purchaseUrl: string | null;
  readonly requires: readonly string[];
  readonly conflictsWith: readonly string[];
}

/** Validated, frozen rules with the lookups the rest of Mailgrant needs. */
export interface Rules {
  readonly source: string;
  readonly organization: { readonly name: string; readonly mailbox: string; readonly locale: Locale; readonly domain: string };
  readonly retention: Duration;
  readonly ownRequestProcess: { readonly enabled: boolean; readonly message: string; readonly link: string | null };
  readonly admins: readonly Admin[];
  readonly users: readonly DirectoryUser[];
  readonly groups: readonly Group[];
  readonly products: readonly Product[];
  readonly security: { readonly tokenTtl: Duration; readonly requireAuthentication: boolean; readonly authservId: string | null };
  readonly autoReplies: { readonly perSenderWindow: Duration };
  user(email: string): DirectoryUser | undefined;
  admin(email: string): Admin | undefined;
  product(id: string): Product | undefined;
  group(name: string): Group | undefined;
  /** Name to show for an address: the directory name, else the address. */
  displayName(email: string): string;
  /** Locale for mail to this person: directory locale, else the organisation's. */
  localeOf(email: string): Locale;
}

export class RulesError extends MailgrantError {
  readonly problems: readonly string[];
  constructor(source: string, problems: string[]) {
    super('rules_invalid', `${source} is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`, { details: { problems } });
    this.problems = problems;
  }
}

/** Loads RULES_FILE; when it does not exist, the bundled example (the caller warns). */
export function loadRules(path: string): { rules: Rules; usedExample: boolean } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      return { rules: parseRules(EXAMPLE_RULES_YAML, 'the bundled example rules'), usedExample: true };
    }
    throw new MailgrantError('rules_invalid', `Cannot read the rules file ${path}: ${(err as Error).message}`, { cause: err });
  }
  return { rules: parseRules(text, path), usedExample: false };
}

export function parseRules(text: string, source: string): Rules {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new RulesError(source, doc.errors.map((e) => `YAML: ${e.message.split('\n')[0]}`));
  }
  const parsed = rulesSchema.safeParse(doc.toJS() ?? {});
  if (!parsed.success) throw new RulesError(source, parsed.error.issues.map(describeIssue));
  const problems = crossCheck(parsed.data);
  if (problems.length > 0) throw new RulesError(source, problems);
  return build(parsed.data, source);
}

function keyPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out || '(top level)';
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const at = keyPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    return `${at}: unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) return `${at}: required, ${issue.message}`;
  return `${at}: ${issue.message}`;
}

/** Checks that need the whole file: references between sections and uniqueness. */
function crossCheck(data: RulesData): string[] {
  const problems: string[] = [];
  const users = new Set<string>();
  data.directory.users.forEach((u, i) => {
    if (users.has(u.email)) problems.push(`directory.users[${i}].email: ${u.email} is listed twice`);
    users.add(u.email);
  });
  const admins = new Set(data.admins.map((a) => a.email));
  const groups = new Map(data.directory.groups.map((g) => [g.name, g]));
  data.directory.groups.forEach((g, i) =>
    g.members.forEach((m, j) => {
      if (!users.has(m)) problems.push(`directory.groups[${i}].members[${j}]: ${m} is not in directory.users`);
    }),
  );
  const ids = new Set<string>();
  const names = new Map<string, string>();
  data.products.forEach((p, i) => {
    if (ids.has(p.id)) problems.push(`products[${i}].id: "${p.id}" is used by another product`);
    ids.add(p.id);
    for (const n of [p.name, ...p.aliases]) {
      const key = n.toLowerCase();
      const other = names.get(key);
      if (other && other !== p.id) problems.push(`products[${i}]: the name or alias "${n}" is also used by ${other}`);
      names.set(key, p.id);
    }
  });
  data.products.forEach((p, i) => {
    if (p.approvers.length === 0) problems.push(`products[${i}].approvers: expected at least one approver, or nobody is asked to decide`);
    p.approvers.forEach((a, j) => {
      if (!users.has(a) && !admins.has(a)) problems.push(`products[${i}].approvers[${j}]: ${a} is neither in directory.users nor in admins`);
    });
    if (p.securityGroup && !groups.has(p.securityGroup)) {
      problems.push(`products[${i}].securityGroup: no group named "${p.securityGroup}" in directory.groups`);
    }
    for (const key of ['requires', 'conflictsWith'] as const) {
      p[key].forEach((ref, j) => {
        if (!ids.has(ref)) problems.push(`products[${i}].${key}[${j}]: no product with id "${ref}"`);
      });
    }
  });
  if (data.ownRequestProcess.enabled && !data.ownRequestProcess.message.trim()) {
    problems.push('ownRequestProcess.message: required when ownRequestProcess.enabled is true');
  }
  if (data.security.requireAuthentication && !data.security.authservId) {
    // Not an error: without an authserv-id Mailgrant verifies DKIM/SPF/DMARC itself.
  }
  return problems;
}

function build(data: RulesData, source: string): Rules {
  const users: DirectoryUser[] = data.directory.users.map((u) => Object.freeze({ email: u.email, name: u.name, locale: u.locale ?? null }));
  const userByEmail = new Map(users.map((u) => [u.email, u]));
  const admins: Admin[] = data.admins.map((a) =>
    Object.freeze({ email: a.email, role: a.role, name: a.name ?? userByEmail.get(a.email)?.name ?? a.email }),
  );
  const adminByEmail = new Map(admins.map((a) => [a.email, a]));
  const groups: Group[] = data.directory.groups.map((g) => Object.freeze({ name: g.name, members: Object.freeze([...g.members]) }));
  const products: Product[] = data.products.map((p) =>
    Object.freeze({
      id: p.id,
      name: p.name,
      aliases: Object.freeze([...p.aliases]),
      seats: p.seats,
      servicePlans: Object.freeze([...p.servicePlans]),
      approvers: Object.freeze([...p.approvers]),
      securityGroup: p.securityGroup ?? null,
      vendor: p.vendor ?? null,
      purchaseUrl: p.purchaseUrl ?? null,
      requires: Object.freeze([...p.requires]),
      conflictsWith: Object.freeze([...p.conflictsWith]),
    }),
  );
  const productById = new Map(products.map((p) => [p.id, p]));
  const groupByName = new Map(groups.map((g) => [g.name.toLowerCase(), g]));
  const orgLocale = data.organization.locale;
  const rules: Rules = {
    source,
    organization: Object.freeze({ ...data.organization, domain: data.organization.mailbox.split('@')[1]! }),
    retention: mustParseDuration(data.retention),
    ownRequestProcess: Object.freeze({ enabled: data.ownRequestProcess.enabled, message: data.ownRequestProcess.message, link: data.ownRequestProcess.link ?? null }),
    admins: Object.freeze(admins),
    users: Object.freeze(users),
    groups: Object.freeze(groups),
    products: Object.freeze(products),
    security: Object.freeze({
      tokenTtl: mustParseDuration(data.security.tokenTtl),
      requireAuthentication: data.security.requireAuthentication,
      authservId: data.security.authservId ?? null,
    }),
    autoReplies: Object.freeze({ perSenderWindow: mustParseDuration(data.autoReplies.perSenderWindow) }),
    user: (e) => userByEmail.get(e.toLowerCase()),
    admin: (e) => adminByEmail.get(e.toLowerCase()),
    product: (id) => productById.get(id),
    group: (name) => groupByName.get(name.toLowerCase()),
    displayName: (e) => userByEmail.get(e.toLowerCase())?.name ?? adminByEmail.get(e.toLowerCase())?.name ?? e,
    localeOf: (e) => userByEmail.get(e.toLowerCase())?.locale ?? orgLocale,
  };
  return Object.freeze(rules);
}
