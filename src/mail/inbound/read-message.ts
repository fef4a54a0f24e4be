import { MailgrantError } from '../../shared/errors.js';
import { extractReply, type ReplyExtraction } from './extract-reply.js';
import { parseMessage, type InboundMessage } from './parse.js';

/** A message as the pipeline needs it before any transaction: parsed, and its new text found. */
export interface ReadMessage {
  msg: InboundMessage;
  /** What the sender wrote above any quote (used by replies and by request mails alike). */
  reply: ReplyExtraction;
}

/**
 * The CPU-heavy part of handling a message (MIME decoding, charset conversion, HTML parsing),
 * kept free of the database and of any shared state so that it can run in a worker thread
 * (parse-pool.ts). The result is plain data: it crosses to the main thread by structured clone.
 */
export async function readMessage(raw: Buffer, timeoutMs?: number): Promise<ReadMessage> {
  const msg = await parseMessage(raw, timeoutMs);
  try {
    return { msg, reply: extractReply({ text: msg.text, html: msg.html }) };
  } catch (err) {
    // A message that breaks the extractor is unreadable too: quarantined, not retried for ever.
    throw new MailgrantError('parse_failed', `its text could not be read: ${(err as Error).message}`, { cause: err });
  }
}
