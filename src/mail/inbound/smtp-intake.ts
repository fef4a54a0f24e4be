import type { Logger } from 'pino';
import { SMTPServer } from 'smtp-server';
import type { InboundPipeline } from './pipeline.js';

export interface SmtpIntake {
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly port: number;
}

function smtpError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

/**
 * An SMTP listener feeding the same pipeline as IMAP, so a fresh machine needs no mail server
 * and an MTA can relay to Mailgrant directly. The 250 reply is given only after the message is
 * committed: if handling fails, the sender gets 451 and retries, so nothing is lost.
 */
export function createSmtpIntake(o: { host: string; port: number; pipeline: InboundPipeline; logger: Logger; maxMessageBytes: number }): SmtpIntake {
  const log = o.logger.child({ component: 'smtp-intake' });
  let port = o.port;
  let started = false;
  const inFlight = new Set<Promise<unknown>>();
  const server = new SMTPServer({
    banner: 'Mailgrant intake',
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    size: o.maxMessageBytes,
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', (err) => callback(err));
      stream.on('end', () => {
        if ((stream as unknown as { sizeExceeded?: boolean }).sizeExceeded) {
          callback(smtpError(552, `message exceeds the ${o.maxMessageBytes} byte limit`));
          return;
        }
        const raw = Buffer.concat(chunks);
        const work = o.pipeline
          .handle(raw, { source: 'smtp' })
          .then((r) => {
            if (r.status === 'failed') callback(smtpError(451, 'temporary failure handling the message; try again later'));
            else callback();
          })
          .catch((err: Error) => {
            log.error({ err, remote: session.remoteAddress }, 'SMTP intake failed');
            callback(smtpError(451, 'temporary failure; try again later'));
          });
        inFlight.add(work);
        void work.finally(() => inFlight.delete(work));
      });
    },
  });
  server.on('error', (err) => log.error({ err: err.message }, 'SMTP intake error'));

  return {
    async start() {
      if (started) return;
      await new Promise<void>((resolve, reject) => {
        const onError = (err: Error) => reject(err);
        server.server.once('error', onError);
        server.listen(o.port, o.host, () => {
          server.server.off('error', onError);
          const addr = server.server.address();
          if (addr && typeof addr === 'object') port = addr.port;
          resolve();
        });
      });
      started = true;
      log.info({ host: o.host, port }, 'SMTP intake listening');
    },
    async stop() {
      if (!started) return;
      started = false;
      // Stop accepting, then let the messages in hand finish so their senders get an answer.
      const closing = new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all([...inFlight]);
      await closing;
    },
    get port() {
      return port;
    },
  };
}
