/**
 * Rendering: the compiled templates (MJML run once at start, Handlebars per mail) against MJML
 * per mail (`renderMjmlPerMail`), on the mails a reply causes, in the same process and run.
 */
import { BUNDLED_TEMPLATES_DIR, createRenderer, renderMjmlPerMail } from '../../src/mail/outbound/render.js';
import type { MailKind } from '../../src/mail/outbound/mail-data.js';
import { sampleData } from '../../src/mail/outbound/sample-data.js';
import { now } from '../util.js';

const KINDS: MailKind[] = ['outcome-approved', 'receipt', 'shared-request'];

/** Calls `fn` for about `ms` (at least `min` times) and returns calls per second. */
function rate(ms: number, min: number, fn: (i: number) => void): number {
  let n = 0;
  const t0 = now();
  while (n < min || now() - t0 < ms) fn(n++);
  return (n / (now() - t0)) * 1000;
}

export function measureRender(o: { ms: number }): { renderPerS: number; mjmlPerMailPerS: number; speedup: number } {
  const opts = { templatesDir: BUNDLED_TEMPLATES_DIR };
  const renderer = createRenderer(opts);
  const data = KINDS.map((k) => ({ kind: k, data: sampleData(k, 'en') }));
  let sink = 0;
  // Warm both paths up (JIT, file cache) before timing.
  for (let i = 0; i < 50; i++) sink += renderer.render(data[i % 3]!.kind, data[i % 3]!.data as never).html.length;
  for (let i = 0; i < 3; i++) sink += renderMjmlPerMail(opts, data[i % 3]!.kind, data[i % 3]!.data as never).html.length;
  const renderPerS = rate(o.ms, 100, (i) => {
    sink += renderer.render(data[i % 3]!.kind, data[i % 3]!.data as never).html.length;
  });
  const mjmlPerMailPerS = rate(o.ms, 6, (i) => {
    sink += renderMjmlPerMail(opts, data[i % 3]!.kind, data[i % 3]!.data as never).html.length;
  });
  if (sink === 0) throw new Error('rendering produced nothing');
  return { renderPerS, mjmlPerMailPerS, speedup: renderPerS / mjmlPerMailPerS };
}
