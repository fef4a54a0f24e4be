/**
 * One error class for everything Mailgrant reports on purpose. `code` says what went wrong in a
 * way callers can branch on; `message` is one sentence a user or admin can act on. Protocol
 * errors (SMTP reply codes, SQLSTATEs, IMAP responses) are classified into a code at the edge
 * that understands the protocol, with the original kept as `cause`.
 */
export type MailgrantErrorCode =
  | 'config_invalid'
  | 'rules_invalid'
  | 'template_invalid'
  | 'not_found'
  | 'forbidden'
  | 'invalid_input'
  | 'conflict'
  | 'no_seats'
  | 'smtp_transient'
  | 'smtp_permanent'
  | 'imap_unavailable'
  | 'db_unavailable'
  | 'message_too_large'
  | 'parse_failed'
  | 'internal';

export class MailgrantError extends Error {
  readonly code: MailgrantErrorCode;
  /** Extra facts for logs and JSON output; never shown instead of the message. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    code: MailgrantErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MailgrantError';
    this.code = code;
    this.details = Object.freeze({ ...(options.details ?? {}) });
  }
}

export function isMailgrantError(err: unknown, code?: MailgrantErrorCode): err is MailgrantError {
  return err instanceof MailgrantError && (code === undefined || err.code === code);
}
