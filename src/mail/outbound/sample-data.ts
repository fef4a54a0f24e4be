/**
 * Realistic data for every mail kind in every locale: used by the renderer tests and by
 * `mailgrant templates preview`, so an admin editing an override sees their template filled
 * with believable names, products and comments in the right language.
 */
import type { Locale } from '../../shared/locale.js';
import type { Common, MailDataByKind, MailKind, PersonView, RequestView } from './mail-data.js';

interface Cast {
  org: Common['organization'];
  requester: PersonView;
  people: [PersonView, PersonView, PersonView];
  decider: PersonView;
  admin: PersonView;
  product: string;
  comment: string;
  message: string;
  ownProcess: string;
  reply: { keptText: string; noCommand: string; negation: string; unknown: string; ambiguous: string };
  catalogue: { name: string; aliases: string[] }[];
  subjectLine: string;
  /** The subject of a reply that arrived damaged. */
  unreadableSubject: string;
  unknownNames: string[];
  alert: { title: string; lines: string[] };
}

const CASTS: Record<Locale, Cast> = {
  en: {
    org: { name: 'Northwind Traders', mailbox: 'licences@northwind.example' },
    requester: { name: 'Dana Fox', email: 'dana.fox@northwind.example' },
    people: [
      { name: 'Alice Wong', email: 'alice.wong@northwind.example' },
      { name: 'Bob Martin', email: 'bob.martin@northwind.example' },
      { name: 'Carol Diaz', email: 'carol.diaz@northwind.example' },
    ],
    decider: { name: 'Erin Walsh', email: 'erin.walsh@northwind.example' },
    admin: { name: 'Sam Patel', email: 'it-admin@northwind.example' },
    product: 'Figma Professional',
    comment: 'Approved for the Q3 redesign. Bob, let’s revisit in October.',
    message: 'Could you look at this before Friday? The design sprint starts on Monday.',
    ownProcess: 'CAD and simulation software is ordered through the engineering service desk.\nOpen a ticket under “Software > Licences”; your team lead approves it there.',
    reply: { keptText: 'approve alex', noCommand: 'sounds good to me', negation: 'don’t approve bob', unknown: 'zed', ambiguous: 'alex' },
    catalogue: [
      { name: 'Figma Professional', aliases: ['figma', 'figma pro'] },
      { name: 'JetBrains All Products Pack', aliases: ['jetbrains', 'intellij'] },
      { name: 'Adobe Acrobat Pro', aliases: ['acrobat'] },
    ],
    subjectLine: 'Licence for Photoshp please',
    unreadableSubject: 'Re: Decision needed: Figma Professional licence request #1042 from Dana Fox',
    unknownNames: ['Jordan Smyth', 'kim.l@northwind.example'],
    alert: { title: 'SMTP delivery failing', lines: ['3 mails could not be sent in the last 10 minutes.', 'Last error: 421 4.7.0 Try again later.'] },
  },
  fr: {
    org: { name: 'Boréal Conseil', mailbox: 'licences@boreal.example' },
    requester: { name: 'Julie Moreau', email: 'julie.moreau@boreal.example' },
    people: [
      { name: 'Amélie Durand', email: 'amelie.durand@boreal.example' },
      { name: 'Bruno Lefèvre', email: 'bruno.lefevre@boreal.example' },
      { name: 'Claire Petit', email: 'claire.petit@boreal.example' },
    ],
    decider: { name: 'Étienne Girard', email: 'etienne.girard@boreal.example' },
    admin: { name: 'Service informatique', email: 'informatique@boreal.example' },
    product: 'Adobe Acrobat Pro',
    comment: 'D’accord pour Amélie et Claire ; pour Bruno, on en reparle au prochain budget.',
    message: 'Pouvez-vous regarder avant vendredi ? Le dossier client part lundi.',
    ownProcess: 'Les logiciels de CAO se commandent auprès du support technique.\nOuvrez un ticket dans « Logiciels > Licences » ; votre responsable le validera.',
    reply: { keptText: 'approuver alex', noCommand: 'ça me va', negation: 'ne pas approuver bruno', unknown: 'zoé', ambiguous: 'alex' },
    catalogue: [
      { name: 'Adobe Acrobat Pro', aliases: ['acrobat', 'pdf'] },
      { name: 'Microsoft Visio', aliases: ['visio'] },
      { name: 'Antidote', aliases: ['correcteur'] },
    ],
    subjectLine: 'Licence Photoshp svp',
    unreadableSubject: 'RE: Décision attendue : licence Adobe Acrobat Pro, demande n° 1042 de Julie Moreau',
    unknownNames: ['Jean Dupond', 'k.leroy@boreal.example'],
    alert: { title: 'Échec d’envoi SMTP', lines: ['3 messages n’ont pas pu être envoyés ces 10 dernières minutes.', 'Dernière erreur : 421 4.7.0 Try again later.'] },
  },
  'zh-TW': {
    org: { name: '北辰科技', mailbox: 'licences@beichen.example' },
    requester: { name: '張雅婷', email: 'yating.chang@beichen.example' },
    people: [
      { name: '王小明', email: 'xiaoming.wang@beichen.example' },
      { name: '陳怡君', email: 'yijun.chen@beichen.example' },
      { name: '林志豪', email: 'zhihao.lin@beichen.example' },
    ],
    decider: { name: '黃建國', email: 'jianguo.huang@beichen.example' },
    admin: { name: '資訊部', email: 'it@beichen.example' },
    product: 'JetBrains All Products Pack',
    comment: '先核准小明和志豪；怡君的部分等下一季預算。',
    message: '麻煩在週五前看一下，新專案下週一開始。',
    ownProcess: 'CAD 與模擬軟體請透過工程服務台申請。\n請在「軟體 > 授權」類別開立工單，由您的主管在工單中核准。',
    reply: { keptText: '核准 alex', noCommand: '我覺得可以', negation: '不要核准陳怡君', unknown: '阿哲', ambiguous: 'alex' },
    catalogue: [
      { name: 'JetBrains All Products Pack', aliases: ['jetbrains', 'intellij'] },
      { name: 'Microsoft Visio', aliases: ['visio'] },
      { name: 'Adobe Acrobat Pro', aliases: ['acrobat'] },
    ],
    subjectLine: '申請 Photoshp 授權',
    unreadableSubject: '回覆：待您決定：張雅婷 的 JetBrains All Products Pack 授權申請 #1042',
    unknownNames: ['李大同', 'k.lee@beichen.example'],
    alert: { title: 'SMTP 寄送失敗', lines: ['過去 10 分鐘內有 3 封郵件無法寄出。', '最後一次錯誤：421 4.7.0 Try again later.'] },
  },
};

function request(c: Cast, verdicts: ('approve' | 'deny' | null)[]): RequestView {
  return {
    number: 1042,
    productName: c.product,
    requester: c.requester,
    createdAt: new Date('2025-03-14T09:30:00Z'),
    people: c.people.map((p, i) => ({ ...p, verdict: verdicts[i] ?? null })),
  };
}

type Builders = { [K in MailKind]: (c: Cast, common: Common) => MailDataByKind[K] };

const BUILDERS: Builders = {
  acknowledgement: (c, common) => ({ ...common, recipient: c.requester, request: request(c, [null, null, null]) }),
  'shared-request': (c, common) => ({
    ...common,
    recipient: c.decider,
    request: request(c, [null, null, null]),
    seatsLeft: 4,
    seatsTotal: 25,
    replyAddress: `${c.org.mailbox.replace('@', '+r1042-7f3a9c@')}`,
    sharedBy: c.requester,
    customSubject: null,
    personalMessage: c.message,
  }),
  receipt: (c, common) => ({
    ...common,
    recipient: c.decider,
    request: request(c, ['approve', 'deny', 'approve']),
    recorded: [
      { person: c.people[0], verdict: 'approve' },
      { person: c.people[2], verdict: 'approve' },
    ],
    alreadyDecided: [{ person: c.people[1], verdict: 'deny', by: c.admin.email }],
    waitingForSeats: [c.people[2]],
    comment: c.comment,
    completed: true,
  }),
  'unclear-reply': (c, common) => ({
    ...common,
    recipient: c.decider,
    request: request(c, [null, null, null]),
    reason: { code: 'ambiguous_name', name: c.reply.ambiguous, matches: ['alex.kim@example.com', 'alex.li@example.com'] },
    keptText: c.reply.keptText,
  }),
  'outcome-approved': (c, common) => ({
    ...common,
    recipient: c.requester,
    request: request(c, ['approve', 'deny', null]),
    person: c.people[0],
    decidedBy: c.decider,
    comment: c.comment,
    message: null,
    isRequester: true,
  }),
  'outcome-denied': (c, common) => ({
    ...common,
    recipient: c.people[1],
    request: request(c, ['approve', 'deny', null]),
    person: c.people[1],
    decidedBy: c.decider,
    comment: c.comment,
    message: null,
    isRequester: false,
  }),
  'own-process': (c, common) => ({ ...common, recipient: c.requester, message: c.ownProcess, link: 'https://intranet.example/licences?product=cad&src=mail' }),
  'unknown-product': (c, common) => ({ ...common, recipient: c.requester, catalogue: c.catalogue, subjectLine: c.subjectLine }),
  'unknown-people': (c, common) => ({ ...common, recipient: c.requester, productName: c.product, names: c.unknownNames }),
  'not-in-directory': (c, common) => ({ ...common, recipient: { name: '', email: 'someone@gmail.example' }, subjectLine: c.subjectLine }),
  'duplicate-request': (c, common) => ({ ...common, recipient: c.requester, request: request(c, ['approve', null, null]) }),
  'seats-missing': (c, common) => ({
    ...common,
    recipient: c.admin,
    request: request(c, ['approve', 'approve', 'approve']),
    missing: 2,
    waiting: [c.people[1], c.people[2]],
    purchaseUrl: 'https://vendor.example/account/seats?add=2',
  }),
  'not-authorized': (c, common) => ({ ...common, recipient: c.decider, request: request(c, [null, null, null]), reason: 'forwarded', replier: 'someone.else@partner.example' }),
  'unreadable': (c, common) => ({ ...common, recipient: c.decider, subjectLine: c.unreadableSubject, limitMb: null }),
  'admin-alert': (c, common) => ({ ...common, recipient: c.admin, title: c.alert.title, lines: c.alert.lines }),
};

/** Sample data for one mail kind in one locale; each call returns fresh objects the caller may modify. */
export function sampleData<K extends MailKind>(kind: K, locale: Locale): MailDataByKind[K] {
  const cast = CASTS[locale];
  const common: Common = { organization: { ...cast.org }, recipient: cast.requester, locale };
  const build = BUILDERS[kind] as (c: Cast, common: Common) => MailDataByKind[K];
  return build(cast, common);
}

/** The other reasons for an unclear reply, so previews and tests can show every wording. */
export function sampleUnclearReasons(locale: Locale): MailDataByKind['unclear-reply']['reason'][] {
  const r = CASTS[locale].reply;
  const people = CASTS[locale].people;
  return [
    { code: 'empty' },
    { code: 'no_command', text: r.noCommand },
    { code: 'negation', phrase: r.negation },
    { code: 'unknown_name', name: r.unknown },
    { code: 'ambiguous_name', name: r.ambiguous, matches: ['alex.kim@example.com', 'alex.li@example.com'] },
    { code: 'conflict', email: people[1].email },
    { code: 'nobody_pending' },
  ];
}
