/**
 * Hands items to `flush` in groups: an item added while no flush runs is flushed at once, alone
 * (no wait when things are quiet); items added while a flush runs wait for it and then go
 * together, up to `maxBatch` at a time. Under load one statement records many items instead of
 * one each. Each `add` settles with the flush that carried its item: resolved, or rejected with
 * that flush's error (so a caller handles its own item's failure as it did before grouping).
 */
export function coalesce<T>(flush: (items: T[]) => Promise<void>, maxBatch = 50): (item: T) => Promise<void> {
  const waiting: { item: T; resolve: () => void; reject: (err: unknown) => void }[] = [];
  let flushing = false;

  async function drain(): Promise<void> {
    flushing = true;
    try {
      while (waiting.length > 0) {
        const batch = waiting.splice(0, maxBatch);
        try {
          await flush(batch.map((w) => w.item));
          for (const w of batch) w.resolve();
        } catch (err) {
          for (const w of batch) w.reject(err);
        }
      }
    } finally {
      flushing = false;
    }
  }

  return (item) =>
    new Promise<void>((resolve, reject) => {
      waiting.push({ item, resolve, reject });
      if (!flushing) void drain();
    });
}
