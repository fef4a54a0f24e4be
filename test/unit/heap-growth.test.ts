import { describe, expect, it } from 'vitest';
import { tuneHeapGrowth } from '../../src/cli/heap-growth.js';

describe('heap growth of the daemon', () => {
  it('is set when node was started without a growth flag', () => {
    expect(tuneHeapGrowth(['--enable-source-maps'])).toBe(true);
  });

  it('keeps a growth percentage given on the node command line, in either spelling', () => {
    expect(tuneHeapGrowth(['--heap-growing-percent=20'])).toBe(false);
    expect(tuneHeapGrowth(['--heap_growing_percent=20'])).toBe(false);
  });
});
