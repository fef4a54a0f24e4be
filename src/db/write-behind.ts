/**
 * Writes whose result nobody reads (an audit row, a queued mail, the inbound record's outcome),
 * sent inside a transaction without waiting for their answer.
 *
 * Why: every statement awaited on its own is one round trip, and on the machines we measured a
 * socket write that wakes the database costs 100–200 µs of CPU on each side; a reply that approves
 * someone ran ~18 of them. A write that is not awaited leaves with the next statement: postgres.js
 * gathers everything queued on a connection in the same turn of the event loop into one socket
 * write, and the server executes a connection's statements in the order sent, so a later read
 * still sees the write. PGlite runs them in the order given too.
 *
 * What it changes: such a write's error is not thrown where it was made but when the transaction
 * ends, before the commit (`settle`). Nothing is lost by that: after a failed statement the
 * server refuses every later one in the transaction, so the first failure is the one reported
 * (postgres.js settles a connection's queries in order), and the transaction rolls back.
 *
 * `writeBehind()` is also how a caller waits once for several writes it started together
 * (`applyDecisions`): nothing in it is specific to the store.
 */
export type Send = (write: Promise<unknown>) => Promise<void>;

/** Outside a transaction each statement commits on its own: the caller waits for it as usual. */
export const sendNow: Send = async (write) => {
  await write;
};

export interface WriteBehind {
  /** Gives a write that has started; resolves at once. */
  readonly send: Send;
  /** Waits for every write given; throws the first one's error. */
  settle(): Promise<void>;
  /** After the transaction's work threw: the first failed write's error if one failed, else `err`. */
  reason(err: unknown): Promise<unknown>;
}

export function writeBehind(): WriteBehind {
  const inFlight: Promise<void>[] = [];
  let failed: { err: unknown } | null = null;
  return {
    send(write) {
      // The handler is attached now, so a failure is never an unhandled rejection.
      inFlight.push(write.then(() => undefined, (err: unknown) => {
        failed ??= { err };
      }));
      return Promise.resolve();
    },
    async settle() {
      await Promise.all(inFlight);
      if (failed) throw failed.err;
    },
    async reason(err) {
      await Promise.all(inFlight);
      return failed ? failed.err : err;
    },
  };
}
