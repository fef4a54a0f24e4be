/**
 * Fault injection for the crash tests: the daemon kills itself with SIGKILL at a named point,
 * so a test can prove that a crash exactly there loses nothing and doubles nothing. Off unless
 * MAILGRANT_CRASH_AT names a point; the points are the moments between two durable effects.
 */
export const FAULT_POINTS = [
  'before-commit', // a reply was fetched and handled, its transaction not yet committed
  'after-commit', // committed, IMAP flag and move not yet done
  'after-outbox-commit', // outbox rows committed, dispatcher not yet woken
  'after-smtp-accept', // the SMTP server accepted a mail, not yet marked sent
] as const;
export type FaultPoint = (typeof FAULT_POINTS)[number];
export type FaultHook = (point: FaultPoint) => void;

export function crashHook(spec: string | null | undefined, log: (point: FaultPoint) => void = () => {}): FaultHook | undefined {
  if (!spec) return undefined;
  const wanted = new Set(spec.split(',').map((s) => s.trim()));
  return (point) => {
    if (!wanted.has(point)) return;
    log(point);
    process.kill(process.pid, 'SIGKILL');
  };
}
