import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Handlebars from 'handlebars';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAIL_KINDS, type MailDataByKind, type MailKind } from '../../src/mail/outbound/mail-data.js';
import { BUNDLED_TEMPLATES_DIR, createRenderer, mjmlRunCount, renderMjmlPerMail, type Renderer } from '../../src/mail/outbound/render.js';
import { replyNameFor } from '../../src/mail/outbound/helpers.js';
import { squeezeIndentation } from '../../src/mail/outbound/compile.js';
import { sampleData, sampleUnclearReasons } from '../../src/mail/outbound/sample-data.js';
import { isMailgrantError, type MailgrantError } from '../../src/shared/errors.js';
import { LOCALES } from '../../src/shared/locale.js';

const HOSTILE = '<script>alert(1)</script> "&<>';
const esc = (s: string): string => Handlebars.escapeExpression(s);

/** The facts each kind must show in both parts, taken from the data it was given. */
function keyFacts(kind: MailKind, data: MailDataByKind[MailKind]): string[] {
  const d = data as unknown as Record<string, unknown>;
  const request = d.request as MailDataByKind['acknowledgement']['request'] | null | undefined;
  const facts = request ? [`${request.number}`, request.productName] : [];
  switch (kind) {
    case 'own-process':
      return [...(d.message as string).split('\n'), d.link as string];
    case 'unknown-product':
      return [d.subjectLine as string, ...(d.catalogue as { name: string }[]).map((c) => c.name)];
    case 'unknown-people':
      return [d.productName as string, ...(d.names as string[])];
    case 'not-in-directory':
      return [d.subjectLine as string, d.recipient && (d.recipient as { email: string }).email].filter(Boolean) as string[];
    case 'not-authorized':
      return [...facts, d.replier as string];
    case 'unreadable':
      return [d.subjectLine as string];
    case 'admin-alert':
      return [d.title as string, ...(d.lines as string[])];
    case 'seats-missing':
      return [...facts, ...(d.waiting as { email: string }[]).map((p) => p.email)];
    default:
      return facts;
  }
}

function expectTemplateError(fn: () => unknown, file: string, line: number): MailgrantError {
  try {
    fn();
  } catch (err) {
    expect(isMailgrantError(err, 'template_invalid')).toBe(true);
    const e = err as MailgrantError;
    expect(e.message).toContain(`${file}:${line}`);
    return e;
  }
  throw new Error('expected a template_invalid error');
}

let renderer: Renderer;
const tmpDirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'mailgrant-templates-'));
  tmpDirs.push(dir);
  return dir;
}
function writeOverride(root: string, relative: string, content: string): string {
  const file = path.join(root, relative);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
  return file;
}

beforeAll(() => {
  renderer = createRenderer({ templatesDir: BUNDLED_TEMPLATES_DIR });
});
afterAll(() => {
  for (const dir of tmpDirs) rmSync(dir, { recursive: true, force: true });
});

describe('bundled templates', () => {
  it('has one compiled template per kind and locale, none falling back', () => {
    expect(renderer.templates).toHaveLength(MAIL_KINDS.length * LOCALES.length);
    expect(renderer.templates.filter((t) => t.fallback)).toEqual([]);
  });

  for (const locale of LOCALES) {
    for (const kind of MAIL_KINDS) {
      it(`renders ${kind} in ${locale} with its key facts`, () => {
        const data = sampleData(kind, locale);
        const mail = renderer.render(kind, data);
        expect(mail.subject.trim()).not.toBe('');
        expect(mail.subject).not.toMatch(/\n/);
        expect(mail.html).toMatch(/^<!doctype html>/i);
        expect(mail.html).not.toContain('{{');
        expect(mail.text).not.toContain('{{');
        for (const fact of keyFacts(kind, data)) {
          expect(mail.text).toContain(fact);
          expect(mail.html).toContain(esc(fact));
        }
        expect(mail.html).toContain(`lang="${locale}"`);
        expect(mail.html).not.toContain('googleapis'); // no remote fonts: nothing loads when a mail is opened
      });
    }
  }

  it('writes French copy in French and Chinese copy in Traditional Chinese', () => {
    for (const kind of MAIL_KINDS) {
      const fr = renderer.render(kind, sampleData(kind, 'fr'));
      expect(fr.text).toContain('Bonjour');
      expect(fr.text).toMatch(/demande|licence|Mailgrant/);
      expect(fr.text).not.toMatch(/\bHello\b|\bthe\b/);
      const zh = renderer.render(kind, sampleData(kind, 'zh-TW'));
      expect(zh.text).toContain('您好');
      expect(zh.html).toContain('您好');
      expect(zh.text).not.toMatch(/\bHello\b|\bthe\b/);
    }
    expect(renderer.render('shared-request', sampleData('shared-request', 'zh-TW')).text).toContain('授權');
    expect(renderer.render('outcome-approved', sampleData('outcome-approved', 'zh-TW')).subject).toContain('已核准');
    expect(renderer.render('outcome-denied', sampleData('outcome-denied', 'fr')).subject).toContain('Refusé');
  });

  it('formats dates and numbers for the locale', () => {
    const data = sampleData('shared-request', 'fr');
    data.seatsTotal = 12500;
    const mail = renderer.render('shared-request', data);
    expect(mail.text).toContain('14 mars 2025');
    expect(mail.text).toMatch(/12\s500/);
    expect(renderer.render('acknowledgement', sampleData('acknowledgement', 'zh-TW')).text).toContain('2025年3月14日');
    expect(renderer.render('acknowledgement', sampleData('acknowledgement', 'en')).text).toContain('March 14, 2025');
  });
});

describe('shared-request', () => {
  it('lists the accepted reply forms with the names of the people on the request', () => {
    const en = renderer.render('shared-request', sampleData('shared-request', 'en'));
    for (const form of ['approve alice, carol', 'deny bob', 'approve all except bob', 'approve alice, deny bob: no budget']) {
      expect(en.text).toContain(form);
      expect(en.html).toContain(form);
    }
    const fr = renderer.render('shared-request', sampleData('shared-request', 'fr'));
    expect(fr.text).toContain('approuver tous sauf bruno');
    expect(fr.text).toContain('approuver amélie, refuser bruno : pas de budget');
    const zh = renderer.render('shared-request', sampleData('shared-request', 'zh-TW'));
    expect(zh.text).toContain('核准 王小明、林志豪');
    expect(zh.text).toContain('核准 王小明，拒絕 陳怡君：沒有預算');
    expect(zh.text).toContain('全部核准，除了 陳怡君');
  });

  it('uses the custom subject and shows the personal message, seats and reply address', () => {
    const data = { ...sampleData('shared-request', 'en'), customSubject: 'Please look: Figma seats' };
    const mail = renderer.render('shared-request', data);
    expect(mail.subject).toBe('Please look: Figma seats');
    expect(mail.text).toContain(data.personalMessage ?? '');
    expect(mail.text).toContain('4 of 25');
    expect(mail.text).toContain(data.replyAddress);
    const plain = renderer.render('shared-request', { ...data, customSubject: null, personalMessage: null, sharedBy: null });
    expect(plain.subject).toContain('#1042');
    expect(plain.html).not.toContain('Message from');
  });
});

describe('reply examples', () => {
  it('use names the reply grammar resolves unambiguously', () => {
    const people = [
      { name: 'Alex Kim', email: 'alex.kim@x.example' },
      { name: 'Alex Li', email: 'alex.li@x.example' },
      { name: '王小明', email: 'xm@x.example' },
      { name: 'Zoë Ng', email: 'zoe@x.example' },
    ];
    expect([0, 1, 2, 3].map((i) => replyNameFor(people, i))).toEqual(['alex.kim', 'alex.li', '王小明', 'zoë']);
    expect(replyNameFor(people.slice(0, 1), 2)).toBe('carol');
  });
});

describe('unclear-reply', () => {
  const wordings: Record<string, RegExp> = {
    empty: /looked empty/,
    no_command: /couldn’t find a decision in “sounds good to me”/,
    negation: /“don’t approve bob” reads as a negation.*never approves.*deny bob/s,
    unknown_name: /Nobody on this request matches “zed”/,
    ambiguous_name: /matches “alex”: alex\.kim@example\.com and alex\.li@example\.com.*full address/s,
    conflict: /both approves and denies bob\.martin@northwind\.example/,
    nobody_pending: /already has a decision/,
  };
  for (const reason of sampleUnclearReasons('en')) {
    it(`explains ${reason.code} and says nothing was recorded`, () => {
      const mail = renderer.render('unclear-reply', { ...sampleData('unclear-reply', 'en'), reason });
      expect(mail.text).toMatch(wordings[reason.code] ?? /never/);
      expect(mail.text).toContain('nothing was recorded');
      expect(mail.text).toContain('> approve alex');
    });
  }
  it('has a wording for every reason in every locale', () => {
    for (const locale of LOCALES) {
      const base = renderer.render('unclear-reply', { ...sampleData('unclear-reply', locale), reason: { code: 'empty' } }).text;
      for (const reason of sampleUnclearReasons(locale).filter((r) => r.code !== 'empty')) {
        const text = renderer.render('unclear-reply', { ...sampleData('unclear-reply', locale), reason }).text;
        expect(text).not.toBe(base);
      }
    }
  });
});

describe('escaping', () => {
  it('escapes mail-supplied values in HTML and keeps them verbatim in text', () => {
    const hostilePerson = { name: HOSTILE, email: 'x@example.com' };
    const receipt = { ...sampleData('receipt', 'en'), comment: HOSTILE, recipient: hostilePerson };
    const unclear = { ...sampleData('unclear-reply', 'en'), keptText: HOSTILE };
    const shared = sampleData('shared-request', 'fr');
    shared.request.people[0] = { ...hostilePerson, verdict: null };
    shared.personalMessage = HOSTILE;
    for (const mail of [renderer.render('receipt', receipt), renderer.render('unclear-reply', unclear), renderer.render('shared-request', shared)]) {
      expect(mail.html).not.toContain('<script>');
      expect(mail.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &quot;&amp;&lt;&gt;');
      expect(mail.text).toContain(HOSTILE);
    }
    const alert = renderer.render('admin-alert', { ...sampleData('admin-alert', 'en'), title: HOSTILE });
    expect(alert.subject).toBe(`[Mailgrant] ${HOSTILE}`);
    expect(alert.html).toContain(`<title>[Mailgrant] ${esc(HOSTILE)}</title>`);
  });
});

describe('outcome mails', () => {
  it('quotes the comment and, for the requester, summarises everyone', () => {
    const data = sampleData('outcome-approved', 'en');
    const mail = renderer.render('outcome-approved', data);
    expect(mail.text).toContain(`> ${data.comment}`);
    expect(mail.text).toMatch(/Bob Martin .* — denied/);
    const forPerson = renderer.render('outcome-approved', { ...data, recipient: data.person, isRequester: false, comment: null });
    expect(forPerson.text).toContain('your Figma Professional licence has been approved');
    expect(forPerson.text).not.toContain('Bob Martin');
    expect(forPerson.text).not.toContain('wrote:');
  });
});

describe('compile once', () => {
  it('never runs MJML while rendering', () => {
    const before = mjmlRunCount();
    for (let i = 0; i < 200; i++) {
      const kind = MAIL_KINDS[i % MAIL_KINDS.length] as MailKind;
      const locale = LOCALES[i % LOCALES.length] ?? 'en';
      renderer.render(kind, sampleData(kind, locale));
    }
    expect(mjmlRunCount()).toBe(before);
  });

  it('runs MJML once per template at creation, and the slow path once per mail with the same result', () => {
    const before = mjmlRunCount();
    createRenderer({ templatesDir: BUNDLED_TEMPLATES_DIR });
    expect(mjmlRunCount() - before).toBe(MAIL_KINDS.length * LOCALES.length);
    const data = sampleData('receipt', 'zh-TW');
    const slow = renderMjmlPerMail({ templatesDir: BUNDLED_TEMPLATES_DIR }, 'receipt', data);
    const fast = renderer.render('receipt', data);
    expect(slow.subject).toBe(fast.subject);
    expect(slow.text).toBe(fast.text);
    expect(slow.html).toContain('申請 #1042');
  });
});

describe('indentation', () => {
  it('drops MJML\'s indentation, keeping every line break and the comment\'s own spacing', () => {
    const r = createRenderer({ templatesDir: BUNDLED_TEMPLATES_DIR });
    const comment = 'line one\n    indented two\n\n\nafter blanks';
    const m = r.render('receipt', { ...sampleData('receipt', 'en'), comment });
    const around = m.html.replace(esc(comment), '');
    expect(around).not.toMatch(/\n[ \t]+/);
    // Data goes in after the squeeze: a decider's comment keeps its spaces and blank lines.
    expect(m.html).toContain(esc(comment));
  });

  it('leaves a template with preformatted text as MJML wrote it', () => {
    const pre = '<div>\n  <pre>\n    keep\n  </pre>\n</div>';
    expect(squeezeIndentation(pre)).toBe(pre);
    const wrap = '<div style="white-space: pre-wrap">\n  keep\n</div>';
    expect(squeezeIndentation(wrap)).toBe(wrap);
    expect(squeezeIndentation('<div style="white-space:pre-line">\n    a\n\n    b\n</div>')).toBe('<div style="white-space:pre-line">\na\nb\n</div>');
  });
});

describe('overrides (TEMPLATES_DIR)', () => {
  it('replaces one template and one partial, leaving the rest bundled', () => {
    const dir = tempDir();
    const file = writeOverride(
      dir,
      'en/acknowledgement.mjml',
      [
        '---',
        'subject: "Got it: #{{request.number}}"',
        'text: |',
        '  Custom text for {{request.productName}}.',
        '---',
        '<mjml lang="en"><mj-body><mj-section><mj-column>',
        '<mj-text>Custom body for {{request.productName}}</mj-text>',
        '</mj-column></mj-section></mj-body></mjml>',
      ].join('\n'),
    );
    writeOverride(dir, 'fr/partials/footer.hbs', '-- pied de page maison {{organization.name}}\n');
    const custom = createRenderer({ templatesDir: BUNDLED_TEMPLATES_DIR, overridesDir: dir });
    const ack = custom.render('acknowledgement', sampleData('acknowledgement', 'en'));
    expect(ack.subject).toBe('Got it: #1042');
    expect(ack.text).toBe('Custom text for Figma Professional.\n');
    expect(ack.html).toContain('Custom body for Figma Professional');
    expect(custom.templates.find((t) => t.kind === 'acknowledgement' && t.locale === 'en')?.file).toBe(file);
    expect(custom.render('acknowledgement', sampleData('acknowledgement', 'fr')).text).toContain('pied de page maison Boréal Conseil');
    expect(custom.render('receipt', sampleData('receipt', 'en')).text).toBe(renderer.render('receipt', sampleData('receipt', 'en')).text);
    expect(custom.unusedOverrides).toEqual([]);
    const typo = writeOverride(dir, 'en/acknowledgment.mjml', 'never read');
    expect(createRenderer({ templatesDir: BUNDLED_TEMPLATES_DIR, overridesDir: dir }).unusedOverrides).toEqual([typo]);
  });

  it('falls back to English only when a locale file is missing', () => {
    const dir = tempDir();
    cpSync(BUNDLED_TEMPLATES_DIR, dir, { recursive: true });
    rmSync(path.join(dir, 'fr', 'receipt.mjml'));
    const partial = createRenderer({ templatesDir: dir });
    expect(partial.templates.find((t) => t.kind === 'receipt' && t.locale === 'fr')).toMatchObject({ fallback: true });
    expect(partial.render('receipt', sampleData('receipt', 'fr')).text).toContain('Thanks');
    expect(partial.render('acknowledgement', sampleData('acknowledgement', 'fr')).text).toContain('Bonjour');
  });

  it('reports an invalid MJML tag with the file and line', () => {
    const dir = tempDir();
    const file = writeOverride(
      dir,
      'en/admin-alert.mjml',
      ['---', 'subject: "x"', 'text: "y"', '---', '<mjml>', '  <mj-body>', '    <mj-section>', '      <mj-colum><mj-text>{{title}}</mj-text></mj-colum>', '    </mj-section>', '  </mj-body>', '</mjml>'].join('\n'),
    );
    const err = expectTemplateError(() => createRenderer({ templatesDir: BUNDLED_TEMPLATES_DIR, overridesDir: dir }), file, 8);
    expect(err.message).toContain('mj-colum');
  });

  it('reports an invalid tag inside an overridden partial at the partial’s own line', () => {
    const dir = tempDir();
    const file = writeOverride(dir, 'partials/header.mjml', '<mj-section>\n  <mj-column>\n    <mj-txt>oops</mj-txt>\n  </mj-column>\n</mj-section>\n');
    expectTemplateError(() => createRenderer({ templatesDir: BUNDLED_TEMPLATES_DIR, overridesDir: dir }), file, 3);
  });

  it('reports a Handlebars syntax error in the body and in the text part with the file and line', () => {
    const dir = tempDir();
    const body = ['---', 'subject: "x"', 'text: "y"', '---', '<mjml><mj-body><mj-section><mj-column>', '<mj-text>{{#if title}}open</mj-text>', '<mj-text>{{title}</mj-text>', '</mj-column></mj-section></mj-body></mjml>'];
    const file = writeOverride(dir, 'en/admin-alert.mjml', body.join('\n'));
    expectTemplateError(() => createRenderer({ templatesDir: BUNDLED_TEMPLATES_DIR, overridesDir: dir }), file, 7);

    const text = ['---', 'subject: "x"', 'text: |', '  line one', '  {{#each lines}}', '  {{this}', '  {{/each}}', '---', '<mjml><mj-body></mj-body></mjml>'];
    writeOverride(dir, 'en/admin-alert.mjml', text.join('\n'));
    expectTemplateError(() => createRenderer({ templatesDir: BUNDLED_TEMPLATES_DIR, overridesDir: dir }), file, 6);

    // A mismatched block is reported where the block opens, as Handlebars sees it.
    text[5] = '  {{this}}';
    text[6] = '  {{/if}}';
    writeOverride(dir, 'en/admin-alert.mjml', text.join('\n'));
    const err = expectTemplateError(() => createRenderer({ templatesDir: BUNDLED_TEMPLATES_DIR, overridesDir: dir }), file, 5);
    expect(err.message).toContain("each doesn't match if");
  });

  it('rejects an unknown helper when the renderer is created, not when a mail is sent', () => {
    const dir = tempDir();
    const file = writeOverride(dir, 'fr/admin-alert.mjml', ['---', 'subject: "{{formatDat title}}"', 'text: "y"', '---', '<mjml><mj-body></mj-body></mjml>'].join('\n'));
    const err = expectTemplateError(() => createRenderer({ templatesDir: BUNDLED_TEMPLATES_DIR, overridesDir: dir }), file, 2);
    expect(err.message).toContain('formatDat');
  });

  it('fails loudly on a misspelt field instead of rendering a blank', () => {
    const dir = tempDir();
    writeOverride(dir, 'en/admin-alert.mjml', ['---', 'subject: "{{titel}}"', 'text: "y"', '---', '<mjml><mj-body></mj-body></mjml>'].join('\n'));
    const custom = createRenderer({ templatesDir: BUNDLED_TEMPLATES_DIR, overridesDir: dir });
    expect(() => custom.render('admin-alert', sampleData('admin-alert', 'en'))).toThrow(/titel/);
  });
});

describe('an admin\'s outcome message', () => {
  it.each(['en', 'fr', 'zh-TW'] as const)('replaces the default text of the outcome mails (%s)', (locale) => {
    const renderer = createRenderer({ templatesDir: BUNDLED_TEMPLATES_DIR });
    for (const kind of ['outcome-approved', 'outcome-denied'] as const) {
      const base = sampleData(kind, locale);
      const plain = renderer.render(kind, base);
      const custom = renderer.render(kind, { ...base, message: 'Your seat is ready <b>today</b>: see the IT portal.' });
      expect(custom.text).toContain('Your seat is ready <b>today</b>: see the IT portal.');
      expect(custom.html).toContain('Your seat is ready &lt;b&gt;today&lt;/b&gt;: see the IT portal.');
      // The default sentence is gone, the rest (request summary) stays.
      const defaultLine = plain.text.split('\n').find((l) => l.includes(base.decidedBy.name) && !l.includes(base.comment ?? '\u0000'))!;
      expect(custom.text).not.toContain(defaultLine.trim());
      expect(custom.text).toContain(String(base.request.number));
    }
  });
});
