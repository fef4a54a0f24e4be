/**
 * Reply extraction: accuracy per family and worst-case time.
 *
 *   npx tsx bench/replies.ts
 *
 * - Corpus (discourse/email_reply_trimmer, fed as text): a case is right when the
 *   first line kept is the corpus's first line and nothing distinctive of the
 *   part the corpus cuts off is kept. Grouped by case-name family.
 * - Own .eml fixtures (test/fixtures/replies), parsed with mailparser: right when
 *   the kept text equals NAME.expected.txt; "text part" runs the text part alone.
 * - Adversarial 1 MB bodies: median and worst of 15 runs after a warm-up, in
 *   wall-clock and in CPU milliseconds (CPU time does not count the time other
 *   processes on the machine took; on an idle machine the two agree).
 */
import { availableParallelism, loadavg } from 'node:os';
import { extractReply } from '../src/mail/inbound/extract-reply.js';
import {
  adversarialCases,
  judgeCorpus,
  loadCorpus,
  loadEmlFixtures,
  parseFixture,
  timeCase,
} from '../test/helpers/reply-cases.js';

type Cell = string | number;

/** Terminal columns: CJK and full-width characters take two. */
function width(s: string): number {
  let w = 0;
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    const wide =
      (c >= 0x1100 && c <= 0x115f) || (c >= 0x2e80 && c <= 0xa4cf) || (c >= 0xac00 && c <= 0xd7a3) ||
      (c >= 0xf900 && c <= 0xfaff) || (c >= 0xfe30 && c <= 0xfe4f) || (c >= 0xff00 && c <= 0xff60) || (c >= 0xffe0 && c <= 0xffe6);
    w += wide ? 2 : 1;
  }
  return w;
}

function table(title: string, header: readonly string[], rows: readonly (readonly Cell[])[]): void {
  const all = [header, ...rows].map((row) => row.map(String));
  const widths = header.map((_, i) => Math.max(...all.map((row) => width(row[i] ?? ''))));
  const pad = (cell: string, i: number): string => {
    const fill = ' '.repeat((widths[i] ?? 0) - width(cell));
    return i === 0 ? cell + fill : fill + cell;
  };
  console.log(`\n${title}`);
  all.forEach((row, r) => {
    console.log(`  ${row.map(pad).join('  ')}`);
    if (r === 0) console.log(`  ${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  });
}

function corpusFamily(name: string): string {
  const parts = name.split('_');
  if (parts[0] === 'embedded' || parts[0] === 'email') return `${parts[0]}_${parts[1]}`;
  return parts[0] ?? name;
}

function ratio(ok: number, total: number): string {
  return total === 0 ? '-' : `${ok}/${total}`;
}

async function main(): Promise<void> {
  // ── Corpus ──
  const corpusRows = new Map<string, { cases: number; first: number; noLeak: number; both: number }>();
  const corpusFailures: string[] = [];
  for (const c of loadCorpus()) {
    const verdict = judgeCorpus(c, extractReply({ text: c.email }).text);
    const family = corpusFamily(c.name);
    const row = corpusRows.get(family) ?? { cases: 0, first: 0, noLeak: 0, both: 0 };
    row.cases++;
    if (verdict.firstLineOk) row.first++;
    if (verdict.leaks.length === 0) row.noLeak++;
    if (verdict.firstLineOk && verdict.leaks.length === 0) row.both++;
    else corpusFailures.push(c.name);
    corpusRows.set(family, row);
  }
  const corpusTotal = [...corpusRows.values()].reduce(
    (t, r) => ({ cases: t.cases + r.cases, first: t.first + r.first, noLeak: t.noLeak + r.noLeak, both: t.both + r.both }),
    { cases: 0, first: 0, noLeak: 0, both: 0 },
  );
  table(
    'Corpus: discourse/email_reply_trimmer (text)',
    ['family', 'cases', 'first line', 'no leak', 'right'],
    [
      ...[...corpusRows].sort(([a], [b]) => a.localeCompare(b)).map(([family, r]) => [family, r.cases, r.first, r.noLeak, ratio(r.both, r.cases)]),
      ['all', corpusTotal.cases, corpusTotal.first, corpusTotal.noLeak, ratio(corpusTotal.both, corpusTotal.cases)],
    ],
  );
  if (corpusFailures.length > 0) console.log(`  wrong: ${corpusFailures.join(', ')}`);

  // ── Own fixtures ──
  const fixtureRows = new Map<string, { cases: number; ok: number; textCases: number; textOk: number }>();
  const fixtureFailures: string[] = [];
  for (const fixture of loadEmlFixtures()) {
    const parsed = await parseFixture(fixture.raw);
    const row = fixtureRows.get(fixture.family) ?? { cases: 0, ok: 0, textCases: 0, textOk: 0 };
    row.cases++;
    if (extractReply(parsed.input).text === fixture.expected) row.ok++;
    else fixtureFailures.push(fixture.name);
    if (parsed.hasTextPart) {
      row.textCases++;
      if (extractReply({ text: parsed.text }).text === fixture.expected) row.textOk++;
      else fixtureFailures.push(`${fixture.name} (text part)`);
    }
    fixtureRows.set(fixture.family, row);
  }
  const fixtureTotal = [...fixtureRows.values()].reduce(
    (t, r) => ({ cases: t.cases + r.cases, ok: t.ok + r.ok, textCases: t.textCases + r.textCases, textOk: t.textOk + r.textOk }),
    { cases: 0, ok: 0, textCases: 0, textOk: 0 },
  );
  table(
    'Own fixtures: test/fixtures/replies (mailparser → extractReply)',
    ['family', 'html+text', 'text part'],
    [
      ...[...fixtureRows].sort(([a], [b]) => a.localeCompare(b)).map(([family, r]) => [family, ratio(r.ok, r.cases), ratio(r.textOk, r.textCases)]),
      ['all', ratio(fixtureTotal.ok, fixtureTotal.cases), ratio(fixtureTotal.textOk, fixtureTotal.textCases)],
    ],
  );
  if (fixtureFailures.length > 0) console.log(`  wrong: ${fixtureFailures.join(', ')}`);

  // ── Adversarial timing ──
  const timings = adversarialCases().map((c) => {
    const bytes = (c.input.text ?? '').length + (c.input.html ?? '').length;
    const t = timeCase(() => extractReply(c.input), 15);
    return { name: c.name, bytes, ...t };
  });
  table(
    'Adversarial 1 MB bodies (ms, 15 runs after warm-up)',
    ['input', 'chars', 'wall median', 'wall worst', 'cpu median', 'cpu worst'],
    timings.map((t) => [
      t.name,
      t.bytes,
      t.medianMs.toFixed(1),
      t.worstMs.toFixed(1),
      t.medianCpuMs.toFixed(1),
      t.worstCpuMs.toFixed(1),
    ]),
  );
  const worstOf = (key: 'worstMs' | 'medianMs' | 'worstCpuMs' | 'medianCpuMs') =>
    timings.reduce((a, b) => (b[key] > a[key] ? b : a));
  for (const [label, key] of [
    ['worst single run, wall', 'worstMs'],
    ['worst single run, cpu', 'worstCpuMs'],
    ['worst median, wall', 'medianMs'],
    ['worst median, cpu', 'medianCpuMs'],
  ] as const) {
    const t = worstOf(key);
    console.log(`${label === 'worst single run, wall' ? '\n' : ''}  ${label.padEnd(24)} ${t[key].toFixed(1).padStart(6)} ms  (${t.name})`);
  }
  console.log(`  machine load (1 min):    ${loadavg()[0]?.toFixed(2) ?? '?'} on ${availableParallelism()} cores`);
}

await main();
