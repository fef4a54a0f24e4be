/**
 * nodemailer transports for the harness's own SMTP clients (to Mailgrant's intake, to the sink).
 *
 * nodemailer leaves Nagle's algorithm on. Its last small write of a message (the end of DATA)
 * then waits for the server's ACK of the previous segment, which the server delays (delayed
 * ACK, ~40 ms on Linux) because it has nothing to answer before the message is complete: every
 * mail costs ~40 ms more per connection. Measured here: 46 ms per mail on one connection, 2 ms
 * with TCP_NODELAY. The harness's clients must not add that to Mailgrant's figures, so their
 * sockets are opened with setNoDelay(true) (nodemailer's `getSocket` hook).
 */
import net from 'node:net';
import nodemailer, { type Transporter } from 'nodemailer';

export function smtpClient(o: { port: number; maxConnections: number }): Transporter {
  const getSocket = (_opts: unknown, cb: (err: Error | null, socket?: { connection: net.Socket }) => void) => {
    const socket = net.connect(o.port, '127.0.0.1', () => {
      socket.setNoDelay(true);
      cb(null, { connection: socket });
    });
    socket.once('error', (err) => cb(err));
  };
  return nodemailer.createTransport({
    host: '127.0.0.1', port: o.port, secure: false, ignoreTLS: true,
    pool: true, maxConnections: o.maxConnections, maxMessages: Infinity,
    getSocket,
  } as Parameters<typeof nodemailer.createTransport>[0]);
}
