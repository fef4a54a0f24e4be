import { describe, expect, it } from 'vitest';
import { createSleeper } from '../../src/shared/sleeper.js';

describe('sleeper', () => {
  it('wakes at once when woken, and a stale wake does not end the next sleep', async () => {
    const s = createSleeper();
    const started = Date.now();
    const sleeping = s.sleep(60_000);
    s.wake();
    await sleeping;
    expect(Date.now() - started).toBeLessThan(1_000);
    s.wake(); // nobody sleeps: nothing to end
    let ended = false;
    const next = s.sleep(50).then(() => {
      ended = true;
    });
    await Promise.resolve();
    expect(ended).toBe(false);
    await next;
    expect(ended).toBe(true);
  });
});
