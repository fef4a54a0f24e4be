import { describe, expect, it } from 'vitest';
import { coalesce } from '../../src/shared/coalesce.js';

/** A flush that records its batches and finishes when told to. */
function controlledFlush(fail?: (items: number[]) => boolean) {
  const batches: number[][] = [];
  const releases: (() => void)[] = [];
  const flush = (items: number[]) =>
    new Promise<void>((resolve, reject) => {
      batches.push(items);
      releases.push(() => (fail?.(items) ? reject(new Error(`flush of ${items.join(',')} failed`)) : resolve()));
    });
  return { flush, batches, releaseNext: () => releases.shift()!() };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('coalesce', () => {
  it('flushes a lone item at once, and the items that came during a flush together after it', async () => {
    const c = controlledFlush();
    const add = coalesce(c.flush);
    const first = add(1);
    expect(c.batches).toEqual([[1]]);
    const rest = [add(2), add(3), add(4)];
    await tick();
    expect(c.batches).toEqual([[1]]); // 2–4 wait for the flush in progress
    c.releaseNext();
    await first;
    await tick();
    expect(c.batches).toEqual([[1], [2, 3, 4]]);
    c.releaseNext();
    await Promise.all(rest);
  });

  it('never puts more than maxBatch items in one flush', async () => {
    const c = controlledFlush();
    const add = coalesce(c.flush, 2);
    const all = [add(1), add(2), add(3), add(4), add(5)];
    for (let i = 0; i < 3; i++) {
      await tick();
      c.releaseNext();
    }
    await Promise.all(all);
    expect(c.batches).toEqual([[1], [2, 3], [4, 5]]);
  });

  it('rejects exactly the items of a failed flush, and keeps flushing the others', async () => {
    const c = controlledFlush((items) => items.includes(2));
    const add = coalesce(c.flush);
    const results = [add(1), add(2), add(3)].map((p) => p.then(() => 'ok', (e: Error) => e.message));
    c.releaseNext();
    await tick();
    c.releaseNext();
    await tick();
    const later = add(4).then(() => 'ok');
    await tick();
    c.releaseNext();
    expect(await Promise.all([...results, later])).toEqual(['ok', 'flush of 2,3 failed', 'flush of 2,3 failed', 'ok']);
    expect(c.batches).toEqual([[1], [2, 3], [4]]);
  });
});
