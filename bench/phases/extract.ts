/**
 * Reply extraction on hostile input: the adversarial 1 MB bodies of the tests (100 KB lines built
 * to make a careless pattern backtrack, 10,000-deep HTML nesting, …), each extracted `repeats`
 * times after a warm-up. The figure is the slowest case's median CPU time: CPU rather than wall
 * time, so a busy neighbour on the same cores does not inflate it. `npm run bench:replies` prints
 * every case.
 */
import { extractReply } from '../../src/mail/inbound/extract-reply.js';
import { adversarialCases, timeCase } from '../../test/helpers/reply-cases.js';

export function measureExtraction(o: { repeats: number }): { worstMedianCpuMs: number; worstCase: string; cases: Record<string, number> } {
  const cases: Record<string, number> = {};
  let worst = { name: '', ms: -1 };
  for (const c of adversarialCases()) {
    const ms = timeCase(() => extractReply(c.input), o.repeats).medianCpuMs;
    cases[c.name] = ms;
    if (ms > worst.ms) worst = { name: c.name, ms };
  }
  return { worstMedianCpuMs: worst.ms, worstCase: worst.name, cases };
}
