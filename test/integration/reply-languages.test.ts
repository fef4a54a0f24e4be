import { asc } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as schema from '../../src/db/schema/index.js';
import { TOKEN_PLACEHOLDER } from '../../src/requests/tokens.js';
import { exampleRules, startTestApp } from '../helpers/app.js';
import { buildMail, quoteBelow } from '../helpers/mail.js';

/**
 * Deciders get Mailgrant's answers in their language: the directory locale, else the language
 * they replied in, else the organisation's.
 */
describe('answers in the decider\'s language', () => {
  let app: Awaited<ReturnType<typeof startTestApp>>;
  beforeEach(async () => {
    // Rémi (fr in the directory) and Dana (no locale) both decide Visio requests.
    app = await startTestApp({ databaseUrl: null, rules: exampleRules((y) => y.replace('approvers: [dana@contoso.example]\n    securityGroup', 'approvers: [dana@contoso.example, remi@contoso.example]\n    securityGroup')) });
  });
  afterEach(async () => app.cleanup());

  const deliver = async (from: string, to: string, subject: string, text: string) =>
    app.pipeline.handle(await buildMail({ from, to, subject, text }), { source: 'smtp' });
  const outbox = () => app.db.db.select().from(schema.outbox).orderBy(asc(schema.outbox.id));
  async function shareTokens(): Promise<Record<string, { token: string; text: string }>> {
    await deliver('alice@contoso.example', 'licenses@contoso.example', 'Visio', 'Also for: bob, carol');
    const shares = (await outbox()).filter((m) => m.kind === 'shared-request');
    return Object.fromEntries(shares.map((m) => [m.toAddress, { token: m.secrets![TOKEN_PLACEHOLDER]!, text: m.text }]));
  }

  it('the directory locale wins: Rémi gets a French share and a French receipt', async () => {
    const t = await shareTokens();
    const remiShare = (await outbox()).find((m) => m.kind === 'shared-request' && m.toAddress === 'remi@contoso.example')!;
    expect(remiShare.text).toMatch(/approuver/);
    await deliver('remi@contoso.example', `licenses+${t['remi@contoso.example']!.token}@contoso.example`, 'RE: Visio', quoteBelow('approuver tous sauf bob : pas de budget', t['remi@contoso.example']!.text));
    const receipt = (await outbox()).find((m) => m.kind === 'receipt')!;
    expect(receipt.toAddress).toBe('remi@contoso.example');
    expect(receipt.text).toMatch(/approuvé/i);
    expect(receipt.text).toMatch(/pas de budget/);
  });

  it('without a directory locale, the language of the reply: Traditional Chinese in, Traditional Chinese out', async () => {
    const t = await shareTokens();
    await deliver('dana@contoso.example', `licenses+${t['dana@contoso.example']!.token}@contoso.example`, 'RE: Visio', quoteBelow('不要核准 bob', t['dana@contoso.example']!.text));
    const unclear = (await outbox()).find((m) => m.kind === 'unclear-reply')!;
    expect(unclear.toAddress).toBe('dana@contoso.example');
    expect(unclear.text).toMatch(/[\u4e00-\u9fff]/);
    expect(unclear.text).toContain('不要核准');
    const verdicts = await app.db.db.select().from(schema.requestPeople);
    expect(verdicts.every((p) => p.verdict === null)).toBe(true);
    await deliver('dana@contoso.example', `licenses+${t['dana@contoso.example']!.token}@contoso.example`, 'RE: Visio', quoteBelow('核准 alice，拒絕 bob：沒有預算', t['dana@contoso.example']!.text));
    const receipt = (await outbox()).find((m) => m.kind === 'receipt')!;
    expect(receipt.text).toMatch(/核准|已核准/);
    expect(receipt.subject).toMatch(/[\u4e00-\u9fff]/);
  });

  it('an ambiguous name is explained precisely and nothing is recorded', async () => {
    await app.cleanup();
    app = await startTestApp({
      databaseUrl: null,
      rules: exampleRules((y) => y.replace('    - { email: bob@contoso.example, name: Bob Smith }', '    - { email: bob@contoso.example, name: Bob Smith }\n    - { email: alex.kim@contoso.example, name: Alex Kim }\n    - { email: alex.li@contoso.example, name: Alex Li }')),
    });
    await deliver('alice@contoso.example', 'licenses@contoso.example', 'Visio', 'Also for: alex.kim@contoso.example, alex.li@contoso.example');
    const share = (await outbox()).find((m) => m.kind === 'shared-request')!;
    await deliver('dana@contoso.example', `licenses+${share.secrets![TOKEN_PLACEHOLDER]}@contoso.example`, 'RE: Visio', quoteBelow('approve alex', share.text));
    const unclear = (await outbox()).find((m) => m.kind === 'unclear-reply')!;
    expect(unclear.text).toContain('alex.kim@contoso.example');
    expect(unclear.text).toContain('alex.li@contoso.example');
    expect(unclear.text).toMatch(/full address/i);
    expect((await app.db.db.select().from(schema.requestPeople)).every((p) => p.verdict === null)).toBe(true);
  });
});
