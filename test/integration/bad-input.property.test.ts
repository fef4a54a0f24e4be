import { asc, eq } from 'drizzle-orm';
import fc from 'fast-check';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as schema from '../../src/db/schema/index.js';
import { sha256 } from '../../src/mail/inbound/pipeline.js';
import { readMessage } from '../../src/mail/inbound/read-message.js';
import { TOKEN_PLACEHOLDER } from '../../src/requests/tokens.js';
import { exampleRules, startTestApp } from '../helpers/app.js';
import { countVerbs, escapeRegExp, VERB_RE, verbsNotIn } from '../helpers/command-words.js';
import { buildMail, quoteBelow } from '../helpers/mail.js';
import { loadEmlFixtures, type EmlFixture } from '../helpers/reply-cases.js';

/**
 * Property tests over real replies (test/fixtures/replies, from many mail clients), turned into
 * replies from Dana to a pending request of Alice's for Alice, Bob and Carol, then damaged:
 *
 *  - noise: byte flips, truncation, duplicated headers, corrupted boundaries, swapped charsets
 *    and transfer encodings, changed line endings, inserted junk. The pipeline always resolves,
 *    records the message (done, failed or quarantined), and whatever it records for a person is
 *    what the undamaged reply meant for that person, unless the damage hit the person's own
 *    words: a line break flipped into "approve all except bob" after "all", or a "<" that makes
 *    "except bob" a tag, leaves a reply that says "approve all", and no reader can tell it from
 *    one written so (every single-byte flip to NUL, LF, '<', '"', '>', '=' or space of every
 *    fixture, 402,311 damaged messages, changed a decision 28 times, each a rewording). So a changed
 *    decision is allowed only when every approve/deny word of what Mailgrant read is one the
 *    person wrote: damage never lends a reply a command from its quote, a forward or anywhere
 *    else. (That is the failure this property found: a flipped byte in an Apple Mail forward's
 *    markup made the forwarded "approve all" the forwarder's.)
 *  - destroyed command: every approve/deny word the person wrote is garbled (and commands may
 *    be added to the quoted original); then nothing at all is recorded, with or without noise.
 *
 * Each run starts from a pending request; one that got decided is closed and a new one made.
 * Runs are bounded (150 and 120, each property also stops after 20 s / 15 s on a slow machine;
 * the count actually run is printed at the end).
 */
const MAILBOX = 'licenses@contoso.example';
type Verdicts = Record<string, 'approve' | 'deny' | null>;

// ── The words that make a command ──────────────────────────────────────────

/** Replaces the first `n` verbs of `s` by `by`; returns how many were replaced. */
function garbleFirst(s: string, n: number, by: string): { text: string; replaced: number } {
  let replaced = 0;
  const text = s.replace(VERB_RE, (m) => (replaced < n ? (replaced++, by) : m));
  return { text, replaced };
}

// ── Fixtures as replies to our request ─────────────────────────────────────

const RECIPIENT_HEADERS = /^(from|to|cc|bcc|in-reply-to|references|delivered-to|x-original-to|reply-to|sender|return-path)\s*:/i;

/** The fixture's bytes with From: Dana and To: her reply address; everything else untouched. */
function asReply(raw: Buffer, token: string): Buffer {
  const s = raw.toString('latin1');
  const m = /\r?\n\r?\n/.exec(s);
  const end = m ? m.index : s.length;
  const nl = s.includes('\r\n') ? '\r\n' : '\n';
  const fields = s.slice(0, end).split(/\r?\n(?![ \t])/).filter((f) => !RECIPIENT_HEADERS.test(f));
  return Buffer.from([`From: Dana Lee <dana@contoso.example>`, `To: Contoso Licences <licenses+${token}@contoso.example>`, ...fields].join(nl) + s.slice(end), 'latin1');
}

/** What Mailgrant reads as the person's words in `raw`, as the pipeline reads them. */
async function keptText(raw: Buffer): Promise<string> {
  return (await readMessage(raw)).reply.text;
}

interface Base {
  fixture: EmlFixture;
  /** Approve/deny verbs in what the person wrote. */
  verbs: number;
  subject: string;
  text: string | null;
  html: string | null;
  /** What the undamaged reply records, per person. */
  baseline: Verdicts;
  /** What Mailgrant reads as the person's words in the undamaged reply. */
  kept: string;
}

// ── Noise ──────────────────────────────────────────────────────────────────

type Noise =
  | { kind: 'flip'; at: { pos: number; byte: number }[] }
  | { kind: 'truncate'; pos: number }
  | { kind: 'duplicate-header'; pick: number; pos: number }
  | { kind: 'boundary'; pick: number; how: 'drop-line' | 'change-char' | 'drop-close' | 'duplicate' | 'declare-other' }
  | { kind: 'charset'; pick: number; to: string }
  | { kind: 'encoding'; pick: number; to: string }
  | { kind: 'line-endings'; to: 'lf' | 'crlf' | 'cr' }
  | { kind: 'junk'; pos: number; junk: string };

const noiseArb: fc.Arbitrary<Noise> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.array(fc.record({ pos: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('truncate' as const), pos: fc.nat() }),
  fc.record({ kind: fc.constant('duplicate-header' as const), pick: fc.nat(), pos: fc.nat() }),
  fc.record({ kind: fc.constant('boundary' as const), pick: fc.nat(), how: fc.constantFrom('drop-line', 'change-char', 'drop-close', 'duplicate', 'declare-other') }),
  fc.record({ kind: fc.constant('charset' as const), pick: fc.nat(), to: fc.constantFrom('utf-8', 'us-ascii', 'iso-8859-1', 'big5', 'gbk', 'gb2312', 'shift_jis', 'utf-16', 'utf-7', 'x-unknown', '', '"') }),
  fc.record({ kind: fc.constant('encoding' as const), pick: fc.nat(), to: fc.constantFrom('base64', 'quoted-printable', '7bit', '8bit', 'binary', 'x-uuencode', 'garbage') }),
  fc.record({ kind: fc.constant('line-endings' as const), to: fc.constantFrom('lf', 'crlf', 'cr') }),
  fc.record({
    kind: fc.constant('junk' as const),
    pos: fc.nat(),
    junk: fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.constantFrom('\u0000\u0000', '\r\n\r\n', '\r\n--\r\n', '=?utf-8?B?', '<', '\r\nContent-Type: multipart/mixed; boundary=x\r\n', 'x'.repeat(70_000), '\u00ff\u00fe'),
    ),
  }),
);

function applyNoise(raw: Buffer, n: Noise): Buffer {
  const s = raw.toString('latin1');
  const len = s.length;
  const headerEnd = (() => {
    const m = /\r?\n\r?\n|\r\r/.exec(s);
    return m ? m.index : len;
  })();
  switch (n.kind) {
    case 'flip': {
      const b = Buffer.from(raw);
      if (b.length === 0) return b;
      for (const { pos, byte } of n.at) b[pos % b.length] = byte;
      return b;
    }
    case 'truncate':
      return raw.subarray(0, n.pos % (raw.length + 1));
    case 'duplicate-header': {
      const fields = [...s.slice(0, headerEnd).matchAll(/(?:^|\n)([^\s:][^\r\n]*(?:\r?\n[ \t][^\r\n]*)*)/g)].map((m) => m[1]!);
      if (fields.length === 0) return raw;
      const field = fields[n.pick % fields.length]!;
      const lines = s.slice(0, headerEnd).split(/(?<=\n)/);
      const at = n.pos % (lines.length + 1);
      const nl = s.includes('\r\n') ? '\r\n' : '\n';
      return Buffer.from(lines.slice(0, at).join('') + (at === lines.length ? nl : '') + field + (at === lines.length ? '' : nl) + lines.slice(at).join('') + s.slice(headerEnd), 'latin1');
    }
    case 'boundary': {
      const boundaries = [...s.matchAll(/boundary\s*=\s*"?([^";\r\n]+)"?/gi)].map((m) => m[1]!);
      if (boundaries.length === 0) return raw;
      const b = boundaries[n.pick % boundaries.length]!;
      const lines = [...s.matchAll(new RegExp(`^--${escapeRegExp(b)}(--)?[ \\t]*\\r?$`, 'gm'))];
      if (n.how === 'declare-other') return Buffer.from(s.replace(`boundary="${b}"`, 'boundary="other"').replace(`boundary=${b}`, 'boundary=other'), 'latin1');
      if (lines.length === 0) return raw;
      const line = lines[n.pick % lines.length]!;
      const at = line.index;
      const text = line[0];
      const replacement =
        n.how === 'drop-line' ? '' :
        n.how === 'change-char' ? `--${b.slice(0, -1)}${b.endsWith('x') ? 'y' : 'x'}${line[1] ?? ''}` :
        n.how === 'drop-close' ? `--${b}` :
        `${text}\n${text}`;
      return Buffer.from(s.slice(0, at) + replacement + s.slice(at + text.length), 'latin1');
    }
    case 'charset': {
      const all = [...s.matchAll(/charset\s*=\s*("?)[^";\r\n\s]*\1/gi)];
      if (all.length === 0) return raw;
      const m = all[n.pick % all.length]!;
      return Buffer.from(s.slice(0, m.index) + `charset=${n.to}` + s.slice(m.index + m[0].length), 'latin1');
    }
    case 'encoding': {
      const all = [...s.matchAll(/content-transfer-encoding\s*:\s*[^\r\n]*/gi)];
      if (all.length === 0) return raw;
      const m = all[n.pick % all.length]!;
      return Buffer.from(s.slice(0, m.index) + `Content-Transfer-Encoding: ${n.to}` + s.slice(m.index + m[0].length), 'latin1');
    }
    case 'line-endings': {
      const lf = s.replace(/\r\n/g, '\n');
      return Buffer.from(n.to === 'lf' ? lf : lf.replace(/\n/g, n.to === 'crlf' ? '\r\n' : '\r'), 'latin1');
    }
    case 'junk': {
      const at = n.pos % (len + 1);
      return Buffer.concat([raw.subarray(0, at), Buffer.from(n.junk, 'utf8'), raw.subarray(at)]);
    }
  }
}

// ── Commands in the quoted original ────────────────────────────────────────

const QUOTED_COMMANDS = ['approve all', 'deny all', 'approve bob', 'approve', '核准', 'approuver tous'];

/** Adds `command` inside the quoted part of a text body (after a '>' line or a header block), or returns null. */
function intoTextQuote(text: string, command: string, pick: number): string | null {
  const lines = text.split('\n');
  const quoted = lines.map((l, i) => (/^\s*>/.test(l) ? i : -1)).filter((i) => i >= 0);
  if (quoted.length > 0) {
    const at = quoted[pick % quoted.length]!;
    lines.splice(at + 1, 0, `> ${command}`);
    return lines.join('\n');
  }
  const header = lines.findIndex((l) => /^\s*(\*?from\*?|de|寄件者|发件人|寄件人)\s*[:：]/i.test(l));
  if (header < 0) return null;
  const blank = lines.findIndex((l, i) => i > header && l.trim() === '');
  if (blank < 0) return null;
  lines.splice(blank + 1, 0, command);
  return lines.join('\n');
}

/** Adds `command` inside the quoted part of an HTML body, or returns null. */
function intoHtmlQuote(html: string, command: string): string | null {
  const markers = ['<blockquote', 'class="gmail_quote', 'id="divRplyFwdMsg"', 'border-top:', '<hr'];
  const found = markers.map((m) => html.indexOf(m)).filter((i) => i >= 0);
  if (found.length === 0) return null;
  const close = html.indexOf('>', Math.min(...found));
  if (close < 0) return null;
  return `${html.slice(0, close + 1)}<div>${command}</div>${html.slice(close + 1)}`;
}

// ── The test ───────────────────────────────────────────────────────────────

describe('damaged replies never decide what their writer did not', () => {
  let app: Awaited<ReturnType<typeof startTestApp>>;
  let current: { requestId: number; token: string; shareText: string };
  const bases: Base[] = [];
  const stats = { runs: 0, decided: 0, reworded: 0, statuses: new Map<string, number>(), resets: 0 };

  const outbox = () => app.db.db.select().from(schema.outbox).orderBy(asc(schema.outbox.id));
  const verdicts = async (requestId: number): Promise<Verdicts> => {
    const rows = await app.db.db.select().from(schema.requestPeople).where(eq(schema.requestPeople.requestId, requestId));
    return Object.fromEntries(rows.map((p) => [p.email, p.verdict]));
  };
  const decidedIn = (v: Verdicts) => Object.entries(v).filter(([, verdict]) => verdict !== null);

  async function newRequest(): Promise<void> {
    const raw = await buildMail({ from: 'Alice Wong <alice@contoso.example>', to: MAILBOX, subject: 'Visio licence please', text: `Visio for me.\nAlso for: bob, Carol Jones\n(${Date.now()}-${Math.random()})` });
    const r = await app.pipeline.handle(raw, { source: 'smtp' });
    expect(r, 'a fresh request for the next run').toMatchObject({ action: 'request-created' });
    const share = (await outbox()).find((m) => m.kind === 'shared-request' && m.requestId === r.requestId)!;
    current = { requestId: r.requestId!, token: share.secrets![TOKEN_PLACEHOLDER]!, shareText: share.text };
  }
  /** After a run that decided someone: close the request (deny the rest) and start a new one. */
  async function freshIfDecided(): Promise<void> {
    const v = await verdicts(current.requestId);
    if (decidedIn(v).length === 0) return;
    stats.resets++;
    if (Object.values(v).some((x) => x === null)) {
      const close = await buildMail({ from: 'dana@contoso.example', to: `licenses+${current.token}@contoso.example`, subject: 'Re: close', text: `deny all\n(${Math.random()})` });
      expect(await app.pipeline.handle(close, { source: 'smtp' })).toMatchObject({ action: 'decision-recorded' });
    }
    await newRequest();
  }

  /** Runs one damaged message and checks what every message must satisfy; returns what it recorded. */
  async function run(raw: Buffer): Promise<Verdicts> {
    stats.runs++;
    const result = await app.pipeline.handle(raw, { source: 'smtp' }); // must resolve, never reject
    stats.statuses.set(result.status, (stats.statuses.get(result.status) ?? 0) + 1);
    const [row] = await app.db.db.select().from(schema.inboundMessages).where(eq(schema.inboundMessages.rawHash, sha256(raw)));
    expect(row?.status, `recorded: ${JSON.stringify(result)}`).toMatch(/^(done|failed|quarantined)$/);
    const v = await verdicts(current.requestId);
    if (decidedIn(v).length > 0) stats.decided++;
    return v;
  }

  beforeAll(async () => {
    // Plenty of seats: approvals across hundreds of runs must never wait for one.
    app = await startTestApp({ databaseUrl: null, rules: exampleRules((y) => y.replace('seats: 10', 'seats: 100000')) });
    await newRequest();
    for (const fixture of loadEmlFixtures()) {
      const parsed = await simpleParser(fixture.raw);
      const hasTextPart = /content-type:\s*text\/plain/i.test(fixture.raw.toString('latin1'));
      const r = await app.pipeline.handle(asReply(fixture.raw, current.token), { source: 'smtp' });
      expect(r.status).toBe('done');
      const baseline = await verdicts(current.requestId);
      bases.push({
        fixture,
        verbs: countVerbs(fixture.expected),
        subject: parsed.subject ?? '',
        text: hasTextPart ? (parsed.text ?? null) : null,
        html: typeof parsed.html === 'string' ? parsed.html : null,
        baseline,
        kept: await keptText(asReply(fixture.raw, current.token)),
      });
      await freshIfDecided();
    }
  });
  afterAll(async () => {
    // eslint-disable-next-line no-console
    console.log(`bad-input properties: ${stats.runs} damaged messages, ${stats.decided} of them decided someone, ${stats.reworded} differently from the undamaged reply (damage to the person's own words), statuses ${JSON.stringify(Object.fromEntries(stats.statuses))}, ${stats.resets} requests closed`);
    await app?.cleanup();
  });

  it('the undamaged fixtures decide exactly when their writer wrote a command (else the properties below prove nothing)', () => {
    const table = bases.map((b) => [b.fixture.name, b.verbs > 0, decidedIn(b.baseline).length > 0]);
    for (const [name, wrote, decided] of table) expect({ name, decided }).toEqual({ name, decided: wrote });
    expect(bases.filter((b) => b.verbs > 0).length).toBeGreaterThanOrEqual(8);
  });

  it('noise: the pipeline always resolves and records the message; it never records a verdict the undamaged reply did not mean', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.array(noiseArb, { minLength: 1, maxLength: 3 }), async (pick, noise) => {
        await freshIfDecided(); // also after a failed run, while fast-check shrinks
        const base = bases[pick % bases.length]!;
        let raw = asReply(base.fixture.raw, current.token);
        for (const n of noise) raw = applyNoise(raw, n);
        const v = await run(raw);
        const changed = decidedIn(v).filter(([email, verdict]) => verdict !== base.baseline[email]);
        if (changed.length > 0) {
          // Allowed only as a rewording of the person's own words (see the top of this file).
          const kept = await keptText(raw);
          const what = `${base.fixture.name}: ${JSON.stringify(changed)} after ${JSON.stringify(noise).slice(0, 300)}, read ${JSON.stringify(kept.slice(0, 300))}`;
          expect(verbsNotIn(kept, base.kept), what).toEqual([]);
          stats.reworded++;
        }
        await freshIfDecided();
      }),
      { numRuns: 150, interruptAfterTimeLimit: 20_000 },
    );
  });

  it('destroyed command: with every approve/deny word garbled, and commands added to the quoted original, nothing is recorded, even with noise', async () => {
    const candidates = bases.filter((b) => b.verbs > 0);
    await fc.assert(
      fc.asyncProperty(
        fc.nat(),
        fc.constantFrom('', 'xyzzy', 'appr0ve', '…', 'ap prove', 'thanks', '?'),
        fc.option(fc.record({ command: fc.constantFrom(...QUOTED_COMMANDS), pick: fc.nat() }), { nil: null }),
        fc.array(noiseArb, { maxLength: 2 }),
        async (pick, garble, quoted, noise) => {
          await freshIfDecided();
          const base = candidates[pick % candidates.length]!;
          let text = base.text;
          let html = base.html;
          if (text !== null) {
            const g = garbleFirst(text, base.verbs, garble);
            expect(g.replaced, `${base.fixture.name}: verbs in the text part`).toBe(base.verbs);
            text = g.text;
          }
          if (html !== null) {
            const g = garbleFirst(html, base.verbs, garble);
            expect(g.replaced, `${base.fixture.name}: verbs in the HTML part`).toBe(base.verbs);
            html = g.text;
          }
          if (quoted) {
            if (text !== null) text = intoTextQuote(text, quoted.command, quoted.pick) ?? text;
            if (html !== null) html = intoHtmlQuote(html, quoted.command) ?? html;
          }
          let raw = await buildMail({
            from: 'Dana Lee <dana@contoso.example>', to: `licenses+${current.token}@contoso.example`, subject: base.subject,
            ...(text !== null ? { text } : {}), ...(html !== null ? { html } : {}),
          });
          for (const n of noise) raw = applyNoise(raw, n);
          const v = await run(raw);
          expect(decidedIn(v), `${base.fixture.name} garbled with ${JSON.stringify(garble)}, quoted ${JSON.stringify(quoted)}, noise ${JSON.stringify(noise).slice(0, 300)}`).toEqual([]);
          await freshIfDecided();
        },
      ),
      { numRuns: 120, interruptAfterTimeLimit: 15_000 },
    );
  });

  it('a reply that says "approve all" above a quote that says otherwise decides "approve all", whatever the quote says', async () => {
    for (const command of ['deny all', 'deny bob', '拒絕 全部', 'refuser tous']) {
      await freshIfDecided();
      const text = intoTextQuote(quoteBelow('approve all', current.shareText), command, 3)!;
      expect(await app.pipeline.handle(await buildMail({ from: 'dana@contoso.example', to: `licenses+${current.token}@contoso.example`, subject: 'Re: x', text }), { source: 'smtp' })).toMatchObject({ action: 'decision-recorded' });
      expect(Object.values(await verdicts(current.requestId))).toEqual(['approve', 'approve', 'approve']);
      await freshIfDecided();
    }
  });
});
