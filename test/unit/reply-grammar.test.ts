import { describe, expect, it } from 'vitest';
import {
  detectLanguage,
  interpretReply,
  type Interpretation,
  type RequestPerson,
  type UnclearReason,
} from '../../src/requests/reply-grammar/index.js';
import { LEXICON } from '../../src/requests/reply-grammar/lexicon.js';

const TEAM: RequestPerson[] = [
  { email: 'alice@contoso.example', name: 'Alice Wong', pending: true },
  { email: 'bob@contoso.example', name: 'Bob Smith', pending: true },
  { email: 'carol@contoso.example', name: 'Carol Jones', pending: true },
];

/** Everyone on TEAM plus the awkward ones: namesakes, a Han name, an accent. */
const CROWD: RequestPerson[] = [
  ...TEAM,
  { email: 'alex.kim@contoso.example', name: 'Alex Kim', pending: true },
  { email: 'alex.li@contoso.example', name: 'Alex Li', pending: true },
  { email: 'wang@contoso.example', name: '王小明', pending: true },
  { email: 'zoé@contoso.example', name: 'Zoé Martin', pending: true },
];

/** Bob already has a decision from an earlier reply. */
const BOB_DONE: RequestPerson[] = TEAM.map((p) => (p.email.startsWith('bob') ? { ...p, pending: false } : p));
const NOBODY_PENDING: RequestPerson[] = TEAM.map((p) => ({ ...p, pending: false }));

const A = 'alice@contoso.example';
const B = 'bob@contoso.example';
const C = 'carol@contoso.example';

type Expected = {
  approve?: string[];
  deny?: string[];
  comment?: string | null;
  language?: 'en' | 'fr' | 'zh-TW';
};

function decisionsOf(people: readonly RequestPerson[], e: Expected): { user: string; verdict: string }[] {
  return people
    .map((p) => p.email.toLowerCase())
    .filter((email) => e.approve?.includes(email) || e.deny?.includes(email))
    .map((email) => ({ user: email, verdict: e.approve?.includes(email) ? 'approve' : 'deny' }));
}

function expectDecision(result: Interpretation, people: readonly RequestPerson[], e: Expected): void {
  expect(result.kind, JSON.stringify(result.kind === 'unclear' ? result.reason : result)).toBe('decision');
  if (result.kind !== 'decision') return;
  expect(result.decisions).toEqual(decisionsOf(people, e));
  if (e.comment !== undefined) expect(result.comment).toBe(e.comment);
  if (e.language) expect(result.language).toBe(e.language);
}

function expectUnclear(result: Interpretation, reason: Partial<UnclearReason> & { code: UnclearReason['code'] }): void {
  expect(result.kind, JSON.stringify(result)).toBe('unclear');
  if (result.kind !== 'unclear') return;
  expect(result.decisions).toEqual([]);
  expect(result.reason).toMatchObject(reason);
}

describe('English commands', () => {
  const cases: [string, Expected][] = [
    ['approve', { approve: [A, B, C], comment: null, language: 'en' }],
    ['approve all', { approve: [A, B, C] }],
    ['approved', { approve: [A, B, C] }],
    ['Approved.', { approve: [A, B, C], comment: null }],
    ['APPROVE', { approve: [A, B, C] }],
    ['Approved!', { approve: [A, B, C] }],
    ['accepted', { approve: [A, B, C] }],
    ['approve everyone', { approve: [A, B, C] }],
    ['approve everybody', { approve: [A, B, C] }],
    ['All approved.', { approve: [A, B, C] }],
    ['approve the request', { approve: [A, B, C] }],
    ['deny', { deny: [A, B, C] }],
    ['deny all', { deny: [A, B, C] }],
    ['Rejected', { deny: [A, B, C] }],
    ['declined', { deny: [A, B, C] }],
    ['refused', { deny: [A, B, C] }],
    ['approve alice, carol', { approve: [A, C] }],
    ['approve alice and carol', { approve: [A, C] }],
    ['approve alice & carol', { approve: [A, C] }],
    ['approve alice; carol', { approve: [A, C] }],
    ['deny bob', { deny: [B] }],
    ['reject Bob', { deny: [B] }],
    ['approve all except bob', { approve: [A, C], deny: [B] }],
    ['approve, deny bob', { approve: [A, C], deny: [B] }],
    ['approve everyone but bob', { approve: [A, C], deny: [B] }],
    ['approve all but not bob', { approve: [A, C], deny: [B] }],
    ['approve everyone excluding bob and carol', { approve: [A], deny: [B, C] }],
    ['approve all except for bob', { approve: [A, C], deny: [B] }],
    ['deny all except alice', { approve: [A], deny: [B, C] }],
    ['approve alice, deny bob', { approve: [A], deny: [B] }],
    ['approve alice and deny bob', { approve: [A], deny: [B] }],
    ['approve alice but deny bob', { approve: [A], deny: [B] }],
    ['approve alice deny bob', { approve: [A], deny: [B] }],
    ['approve alice, deny the rest', { approve: [A], deny: [B, C] }],
    ['approve alice, everyone else denied', { approve: [A], deny: [B, C] }],
    ['approve all, deny bob', { approve: [A, C], deny: [B] }],
    ['Except bob, approve everyone', { approve: [A, C], deny: [B] }],
    ['approve alice please', { approve: [A] }],
    ['please approve alice', { approve: [A] }],
    ['Please approve alice, thanks!', { approve: [A], comment: null }],
    ['I approve', { approve: [A, B, C] }],
    ['I approve alice', { approve: [A] }],
    ['I hereby approve bob', { approve: [B] }],
    ['We have approved carol', { approve: [C] }],
    ['The request is approved.', { approve: [A, B, C] }],
    ['approve Alice Wong and Bob', { approve: [A, B] }],
    ['approve ALICE WONG', { approve: [A] }],
    ['approve alice@contoso.example', { approve: [A] }],
    ['approve <bob@contoso.example>', { approve: [B] }],
    ['approve BOB@CONTOSO.EXAMPLE', { approve: [B] }],
    ['approve "alice" (carol)', { approve: [A, C] }],
    ['approve alice.', { approve: [A] }],
    ['**Approve** alice', { approve: [A] }],
    ['approve the licence for alice and bob', { approve: [A, B] }],
    ['approve alice bob', { approve: [A, B] }],
    ['Ａｐｐｒｏｖｅ ａｌｉｃｅ', { approve: [A] }],
    ['approve alice, alice', { approve: [A] }],
  ];
  it.each(cases)('%j', (text, e) => expectDecision(interpretReply(text, TEAM), TEAM, e));
});

describe('comments', () => {
  const cases: [string, Expected][] = [
    ['approve alice, deny bob: no budget', { approve: [A], deny: [B], comment: 'no budget' }],
    ['deny bob because no budget this quarter', { deny: [B], comment: 'no budget this quarter' }],
    ['approve\nThanks, enjoy', { approve: [A, B, C], comment: 'Thanks, enjoy' }],
    ['approve\n\nThanks,\n\nDana', { approve: [A, B, C], comment: 'Thanks,\nDana' }],
    ['deny bob: no budget\nTry again next quarter.', { deny: [B], comment: 'no budget\nTry again next quarter.' }],
    ['deny bob, reason: no budget', { deny: [B], comment: 'no budget' }],
    ['deny bob — no budget', { deny: [B], comment: 'no budget' }],
    ['deny bob - no budget', { deny: [B], comment: 'no budget' }],
    ['Approved. Thanks!', { approve: [A, B, C], comment: 'Thanks!' }],
    ['Approved. Enjoy the tool.\nCheers', { approve: [A, B, C], comment: 'Enjoy the tool.\nCheers' }],
    ['approve:', { approve: [A, B, C], comment: null }],
    ['approve alice:    ', { approve: [A], comment: null }],
    ['deny bob because: the budget is frozen', { deny: [B], comment: 'the budget is frozen' }],
    ['deny bob because of the budget freeze', { deny: [B], comment: 'the budget freeze' }],
    ['approve\n  \n  indented note  \n', { approve: [A, B, C], comment: 'indented note' }],
    ['approve\r\nThanks\r\n', { approve: [A, B, C], comment: 'Thanks' }],
  ];
  it.each(cases)('%j', (text, e) => expectDecision(interpretReply(text, TEAM), TEAM, e));

  it('keeps a long comment whole although only the start is parsed', () => {
    const long = 'x'.repeat(5000);
    const r = interpretReply(`approve alice: ${long}\nmore`, TEAM);
    expectDecision(r, TEAM, { approve: [A], comment: `${long}\nmore` });
  });
});

describe('greetings and chatter around the command', () => {
  const cases: [string, Expected][] = [
    ['Hi Dana,\napprove alice', { approve: [A], comment: null }],
    ['Hi Dana,\n\napprove alice\nCheers', { approve: [A], comment: 'Cheers' }],
    ['Hello,\nApproved.', { approve: [A, B, C] }],
    ['Hi all,\ndeny bob', { deny: [B] }],
    ['Dear all,\napprove everyone but bob', { approve: [A, C], deny: [B] }],
    ['Hi Dana, approve alice', { approve: [A] }],
    ['Hi Dana: approve alice', { approve: [A] }],
    ['Looks good, approve carol', { approve: [C] }],
    ['Looks good. Approve carol.', { approve: [C] }],
    ['Sure, approve', { approve: [A, B, C] }],
    ['OK approve', { approve: [A, B, C] }],
    ['Yes, approved', { approve: [A, B, C] }],
    ['Oui, approuvé', { approve: [A, B, C], language: 'fr' }],
    ['好的，核准', { approve: [A, B, C], language: 'zh-TW' }],
    ['- approve alice', { approve: [A] }],
    ['Bonjour,\nApprouvé.\n\nMerci', { approve: [A, B, C], comment: 'Merci', language: 'fr' }],
    ['您好，\n同意', { approve: [A, B, C], language: 'zh-TW' }],
    ['Dana 您好：\n核准 alice', { approve: [A] }],
  ];
  it.each(cases)('%j', (text, e) => expectDecision(interpretReply(text, TEAM), TEAM, e));
});

describe('several command lines', () => {
  const cases: [string, Expected][] = [
    ['approve alice\ndeny bob', { approve: [A], deny: [B], comment: null }],
    ['approve alice\n\ndeny bob: sorry\nBest', { approve: [A], deny: [B], comment: 'sorry\nBest' }],
    ['Approve alice. Deny bob.', { approve: [A], deny: [B] }],
    ['Approve all.\nAll the best', { approve: [A, B, C], comment: 'All the best' }],
    ['approve alice.\nAnd bob too.', { approve: [A], comment: 'And bob too.' }],
    ['approve\nNo rush.', { approve: [A, B, C], comment: 'No rush.' }],
    ['Approved. No worries.', { approve: [A, B, C], comment: 'No worries.' }],
  ];
  it.each(cases)('%j', (text, e) => expectDecision(interpretReply(text, TEAM), TEAM, e));
});

describe('French commands', () => {
  const cases: [string, Expected][] = [
    ['approuvé', { approve: [A, B, C], language: 'fr' }],
    ['Approuvé.', { approve: [A, B, C], language: 'fr' }],
    ['approuver', { approve: [A, B, C], language: 'fr' }],
    ['accepté', { approve: [A, B, C], language: 'fr' }],
    ["J'approuve", { approve: [A, B, C], language: 'fr' }],
    ['j’approuve alice', { approve: [A], language: 'fr' }],
    ["J'ai approuvé carol", { approve: [C], language: 'fr' }],
    ['refusé', { deny: [A, B, C], language: 'fr' }],
    ['rejeté', { deny: [A, B, C], language: 'fr' }],
    ['refuser bob', { deny: [B], language: 'fr' }],
    ['approuver alice, refuser bob : pas de budget', { approve: [A], deny: [B], comment: 'pas de budget', language: 'fr' }],
    ['approuver alice et carol', { approve: [A, C], language: 'fr' }],
    ['tous approuvés sauf bob', { approve: [A, C], deny: [B], language: 'fr' }],
    ['approuver tout le monde sauf bob', { approve: [A, C], deny: [B], language: 'fr' }],
    ['approuver tous excepté bob', { approve: [A, C], deny: [B] }],
    ['approuver tous à part bob', { approve: [A, C], deny: [B] }],
    ['approuver tous mais pas bob', { approve: [A, C], deny: [B] }],
    ['refuser tous sauf alice', { approve: [A], deny: [B, C] }],
    ['refuser bob car pas de budget', { deny: [B], comment: 'pas de budget', language: 'fr' }],
    ["refuser bob parce que pas de budget", { deny: [B], comment: 'pas de budget' }],
    ["refuser bob parce qu'il n'y a pas de budget", { deny: [B], comment: "il n'y a pas de budget" }],
    ['approuver alice, svp', { approve: [A] }],
    ["approuver alice s'il vous plaît", { approve: [A] }],
    ['Merci, approuvé', { approve: [A, B, C] }],
    ['approuver la demande de bob', { approve: [B] }],
  ];
  it.each(cases)('%j', (text, e) => expectDecision(interpretReply(text, TEAM), TEAM, e));
  it('"refuse" alone is English and French; the written accent decides', () => {
    expectDecision(interpretReply('refuse', TEAM), TEAM, { deny: [A, B, C], language: 'en' });
    expectDecision(interpretReply('Refusé', TEAM), TEAM, { deny: [A, B, C], language: 'fr' });
    expectDecision(interpretReply('refuse bob car pas de budget', TEAM), TEAM, { deny: [B], language: 'fr' });
  });
});

describe('Chinese commands', () => {
  const cases: [string, Expected][] = [
    ['核准 alice，拒絕 bob：沒有預算', { approve: [A], deny: [B], comment: '沒有預算', language: 'zh-TW' }],
    ['全部核准', { approve: [A, B, C], language: 'zh-TW' }],
    ['核准全部', { approve: [A, B, C] }],
    ['全部核准，除了 bob', { approve: [A, C], deny: [B] }],
    ['除了 bob 以外全部核准', { approve: [A, C], deny: [B] }],
    ['除了bob之外，全部核准', { approve: [A, C], deny: [B] }],
    ['除了 bob、carol 以外全部核准', { approve: [A], deny: [B, C] }],
    ['拒絕 bob', { deny: [B] }],
    ['拒绝 bob', { deny: [B], language: 'zh-TW' }],
    ['同意', { approve: [A, B, C] }],
    ['同意。', { approve: [A, B, C] }],
    ['駁回', { deny: [A, B, C] }],
    ['否決', { deny: [A, B, C] }],
    ['不核准 bob', { deny: [B] }],
    ['全部拒絕，除了 alice', { approve: [A], deny: [B, C] }],
    ['核准 alice 和 carol', { approve: [A, C] }],
    ['核准 alice、carol', { approve: [A, C] }],
    ['核准alice及carol', { approve: [A, C] }],
    ['核准 alice，其他人拒絕', { approve: [A], deny: [B, C] }],
    ['拒絕 bob 因為沒有預算', { deny: [B], comment: '沒有預算' }],
    ['拒絕 bob，原因：沒有預算', { deny: [B], comment: '沒有預算' }],
    ['拒絕 bob，理由是沒有預算', { deny: [B], comment: '是沒有預算' }],
    ['我核准', { approve: [A, B, C] }],
    ['我同意', { approve: [A, B, C] }],
    ['請核准 alice，謝謝', { approve: [A] }],
    ['批准了', { approve: [A, B, C] }],
    ['所有人都核准', { approve: [A, B, C] }],
    ['全體核准', { approve: [A, B, C] }],
  ];
  it.each(cases)('%j', (text, e) => expectDecision(interpretReply(text, TEAM), TEAM, e));
});

describe('names', () => {
  const cases: [string, Expected][] = [
    ['approve alex.kim', { approve: ['alex.kim@contoso.example'] }],
    ['approve Alex Kim', { approve: ['alex.kim@contoso.example'] }],
    ['approve alex li and alex kim', { approve: ['alex.kim@contoso.example', 'alex.li@contoso.example'] }],
    ['approve alex.li@contoso.example', { approve: ['alex.li@contoso.example'] }],
    ["I approve Alex Kim's request", { approve: ['alex.kim@contoso.example'] }],
    ['批准 王小明', { approve: ['wang@contoso.example'], language: 'zh-TW' }],
    ['批准王小明', { approve: ['wang@contoso.example'] }],
    ['批准王小明和 alice', { approve: ['wang@contoso.example', A] }],
    ['approve 王小明', { approve: ['wang@contoso.example'], language: 'en' }],
    ['approve wang', { approve: ['wang@contoso.example'] }],
    ['approve zoe', { approve: ['zoé@contoso.example'] }],
    ['approve Zoé', { approve: ['zoé@contoso.example'] }],
    ['approve ZOE MARTIN', { approve: ['zoé@contoso.example'] }],
    ['approve zoe@contoso.example', { approve: ['zoé@contoso.example'] }],
    ['approve all except alex kim', { approve: [A, B, C, 'alex.li@contoso.example', 'wang@contoso.example', 'zoé@contoso.example'], deny: ['alex.kim@contoso.example'] }],
  ];
  it.each(cases)('%j', (text, e) => expectDecision(interpretReply(text, CROWD), CROWD, e));

  it('a name matching two people is ambiguous, with both addresses', () => {
    expectUnclear(interpretReply('approve alex', CROWD), {
      code: 'ambiguous_name',
      name: 'alex',
      matches: ['alex.kim@contoso.example', 'alex.li@contoso.example'],
    });
    expectUnclear(interpretReply('approve all except Alex', CROWD), { code: 'ambiguous_name', name: 'Alex' });
  });

  it('names only match people on this request', () => {
    expectUnclear(interpretReply('approve zed', TEAM), { code: 'unknown_name', name: 'zed' });
    expectUnclear(interpretReply('approve alice, dave brown', TEAM), { code: 'unknown_name', name: 'dave brown' });
    expectUnclear(interpretReply('approve Alice Smith', TEAM), { code: 'unknown_name', name: 'Smith' });
    expectUnclear(interpretReply('approve wong', TEAM), { code: 'unknown_name', name: 'wong' });
    expectUnclear(interpretReply('approve alice asap', TEAM), { code: 'unknown_name', name: 'asap' });
    expectUnclear(interpretReply('approve dave@contoso.example', TEAM), { code: 'unknown_name' });
    expectUnclear(interpretReply('批准 李四', CROWD), { code: 'unknown_name', name: '李四' });
    expectUnclear(interpretReply('approuver bernard', TEAM), { code: 'unknown_name', name: 'bernard' });
    expectUnclear(interpretReply('approve all except zed', TEAM), { code: 'unknown_name', name: 'zed' });
  });

  it('a name that is also a filler or auxiliary word still names its person', () => {
    const people: RequestPerson[] = [...TEAM, { email: 'will@contoso.example', name: 'Will Turner', pending: true }];
    expectDecision(interpretReply('approve will', people), people, { approve: ['will@contoso.example'] });
    expectDecision(interpretReply('approve alice, I deny will', people), people, {
      approve: [A],
      deny: ['will@contoso.example'],
    });
  });

  it('people without a name are named by address; duplicate addresses are one person', () => {
    const people: RequestPerson[] = [
      { email: 'Dev@Contoso.Example', pending: true },
      { email: 'dev@contoso.example', name: 'Dev Again', pending: true },
      { email: 'ops@contoso.example', name: null, pending: true },
    ];
    expectDecision(interpretReply('approve dev', people), people.slice(1), { approve: ['dev@contoso.example'] });
    expectDecision(interpretReply('deny ops', people), people, { deny: ['ops@contoso.example'] });
  });
});

describe('pending and already decided people', () => {
  it('"all" covers pending people only', () => {
    expectDecision(interpretReply('approve', BOB_DONE), BOB_DONE, { approve: [A, C] });
    expectDecision(interpretReply('deny all', BOB_DONE), BOB_DONE, { deny: [A, C] });
  });
  it('someone named explicitly is listed even if already decided', () => {
    expectDecision(interpretReply('deny bob', BOB_DONE), BOB_DONE, { deny: [B] });
    expectDecision(interpretReply('approve all except bob', BOB_DONE), BOB_DONE, { approve: [A, C], deny: [B] });
    expectDecision(interpretReply('approve bob', NOBODY_PENDING), NOBODY_PENDING, { approve: [B] });
  });
  it('"all" with nobody pending is unclear', () => {
    expectUnclear(interpretReply('approve', NOBODY_PENDING), { code: 'nobody_pending' });
    expectUnclear(interpretReply('全部核准', NOBODY_PENDING), { code: 'nobody_pending' });
    expectUnclear(interpretReply('approve', []), { code: 'nobody_pending' });
    expectDecision(interpretReply('approve all except bob', NOBODY_PENDING), NOBODY_PENDING, { deny: [B] });
  });
});

describe('negations are never decisions', () => {
  const cases: [string, string][] = [
    ["don't approve bob", "don't approve"],
    ['do not approve', 'do not approve'],
    ['dont approve alice', 'dont approve'],
    ['please don’t approve anyone', 'don’t approve'],
    ['never approve bob', 'never approve'],
    ["I can't approve this", "can't approve"],
    ['not approved', 'not approved'],
    ["don't deny bob", "don't deny"],
    ['ne pas approuver bob', 'ne pas approuver'],
    ["n'approuvez pas bob", "n'approuvez"],
    ["je n'approuve pas", "n'approuve"],
    ['Je ne approuve pas', 'ne approuve'],
    ['不要核准 bob', '不要核准'],
    ['不同意', '不同意'],
    ['別批准', '別批准'],
    ['别批准 alice', '别批准'],
    ['勿核准', '勿核准'],
    ['不可核准 bob', '不可核准'],
    ['approve alice, not bob', 'not'],
    // Conservative on purpose: without a colon, "no budget" reads as a negated command.
    ['deny bob, no budget', 'no'],
    ['approve alice, don’t approve bob', 'don’t approve'],
    ['No, approve alice', 'No, approve'],
    ['approve all.\nNot bob.', 'Not'],
    ['approve all. Not bob.', 'Not'],
    ['approve\nNot for everyone', 'Not'],
    ['approve\nDon’t approve bob', 'Don’t approve'],
  ];
  it.each(cases)('%j', (text, phrase) => {
    for (const people of [TEAM, CROWD, BOB_DONE]) {
      expectUnclear(interpretReply(text, people), { code: 'negation', phrase });
    }
  });
});

describe('text without a command', () => {
  const cases: string[] = [
    'Thanks!',
    'Merci',
    '謝謝',
    'Looks good to me',
    'yes please',
    'ok',
    'Yes',
    'OK, go ahead',
    'Sounds good, thanks',
    'approving alice',
    '准',
    'Thanks!\napprove',
    'Hi Dana,',
    "Don't.",
    '不要',
  ];
  it.each(cases)('%j', (text) => {
    const r = interpretReply(text, TEAM);
    expectUnclear(r, { code: 'no_command' });
  });

  it('quotes the command line in the reason', () => {
    expectUnclear(interpretReply('Hi Dana,\nLooks good to me\nBest', TEAM), { code: 'no_command', text: 'Looks good to me' });
  });

  it('empty text', () => {
    for (const text of ['', '   ', '\n\n\t']) {
      const r = interpretReply(text, TEAM);
      expect(r).toEqual({ kind: 'unclear', decisions: [], reason: { code: 'empty' }, language: null, text: '' });
    }
  });
});

describe('structures we refuse to guess', () => {
  const cases: string[] = [
    'Approve alice?',
    'Should I approve alice?',
    '核准 alice 嗎？',
    'alice approved, bob denied',
    'approve alice, bob denied',
    'Alice, approve',
    'approve alice except bob',
    'approve alice but not bob',
    'approve both',
    'approved by me',
    'approve all except',
    'approve all.\nExcept bob.',
    'approve alice or bob',
    'approve if budget allows',
    'maybe approve alice',
    'Approved. Bob is denied.',
    'approve\nBob should be rejected though',
    'approve\nthanks\ndeny bob',
    'Thanks all, approve alice',
    'Decision: approve alice',
    'approve alice 核准 如果 可以',
    'approve ' + 'alice, '.repeat(400) + 'bob',
  ];
  it.each(cases)('%j', (text) => {
    const r = interpretReply(text, TEAM);
    expect(r.kind).toBe('unclear');
    expect(['no_command', 'unknown_name']).toContain(r.kind === 'unclear' ? r.reason.code : '');
  });

  it('"all" with a verdict each way is a conflict, as is one person approved and denied', () => {
    expectUnclear(interpretReply('approve all, deny all', TEAM), { code: 'conflict', email: A });
    expectUnclear(interpretReply('deny bob, approve bob', TEAM), { code: 'conflict', email: B });
    expectUnclear(interpretReply('approve all except bob, approve bob', TEAM), { code: 'conflict', email: B });
    expectUnclear(interpretReply('approve Bob Smith, deny bob@contoso.example', TEAM), { code: 'conflict', email: B });
    expectUnclear(interpretReply('核准 bob，拒絕 bob', TEAM), { code: 'conflict', email: B });
    expectUnclear(interpretReply('approve, deny', TEAM), { code: 'conflict' });
  });
});

describe('result fields', () => {
  it('trims the text and lower-cases addresses', () => {
    const people: RequestPerson[] = [{ email: 'Alice@Contoso.Example', name: 'Alice Wong', pending: true }];
    const r = interpretReply('  approve alice \n', people);
    expect(r).toEqual({
      kind: 'decision',
      decisions: [{ user: 'alice@contoso.example', verdict: 'approve' }],
      comment: null,
      language: 'en',
      text: 'approve alice',
    });
  });

  it('lists decisions in the order of people, not of the text', () => {
    const r = interpretReply('deny carol, approve alice', TEAM);
    expect(r.decisions).toEqual([
      { user: A, verdict: 'approve' },
      { user: C, verdict: 'deny' },
    ]);
  });

  it('unclear results carry the detected language', () => {
    expect(interpretReply('Merci beaucoup', TEAM).language).toBe('fr');
    expect(interpretReply('謝謝', TEAM).language).toBe('zh-TW');
    expect(interpretReply('Thanks!', TEAM).language).toBe('en');
    expect(interpretReply("n'approuvez pas bob", TEAM).language).toBe('fr');
  });

  // The limits are hang guards (each call takes under 20 ms here), not speed measurements: a
  // pattern gone super-linear on a megabyte takes minutes.
  it('handles long input without hanging', () => {
    const text = `approve alice\n${'blah '.repeat(200_000)}`;
    const t0 = performance.now();
    const r = interpretReply(text, TEAM);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(r.kind).toBe('decision');
    const noise = 'a,'.repeat(100_000);
    const t1 = performance.now();
    expect(interpretReply(noise, TEAM).kind).toBe('unclear');
    expect(performance.now() - t1).toBeLessThan(1000);
  });
});

describe('detectLanguage', () => {
  const cases: [string, 'en' | 'fr' | 'zh-TW' | null][] = [
    ['', null],
    ['   ', null],
    ['Thanks!', 'en'],
    ['Looks good to me', 'en'],
    ['Merci', 'fr'],
    ['Bonjour, pas de budget', 'fr'],
    ["J'ai vu la demande", 'fr'],
    ['Zoé', 'fr'],
    ['approve zoé', 'en'],
    ['謝謝', 'zh-TW'],
    ['thanks 謝謝', 'zh-TW'],
    ['12345 !!!', null],
  ];
  it.each(cases)('%j → %j', (text, lang) => expect(detectLanguage(text)).toBe(lang));
});

describe('lexicon data', () => {
  it('loads without a word having two meanings, in all three languages', () => {
    const langs = new Set([...LEXICON.latin.values(), ...LEXICON.han.values()].flatMap((e) => e.langs));
    expect([...langs].sort()).toEqual(['en', 'fr', 'zh-TW']);
  });
  it('does not treat "ok" or "yes" as approval', () => {
    for (const w of ['ok', 'okay', 'yes', 'oui', '好', '是']) {
      expect(LEXICON.latin.get(w)?.cls ?? LEXICON.han.get(w)?.cls ?? null).not.toBe('approve');
    }
  });
});

describe('quoted lines are never commands', () => {
  const people = [
    { email: 'alice@contoso.example', name: 'Alice Wong', pending: true },
    { email: 'bob@contoso.example', name: 'Bob Smith', pending: true },
  ];
  it.each(['> approve all', '>approve', '> > deny bob', 'Hi,\n> approve', '> approve\n\nThanks!'])('%j records nothing', (text) => {
    expect(interpretReply(text, people).kind).toBe('unclear');
  });
  it('a bottom-posted answer below the quote still counts', () => {
    expect(interpretReply('> Reply with: approve\n\ndeny bob', people)).toMatchObject({ kind: 'decision', decisions: [{ user: 'bob@contoso.example', verdict: 'deny' }] });
  });
});
