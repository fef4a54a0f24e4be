import { pino, type Logger } from 'pino';
import { Writable } from 'node:stream';

export type { Logger } from 'pino';

/**
 * JSON lines for machines; one readable line per event on a terminal. Credentials are redacted
 * at the logger so no call site can leak them by logging a settings object.
 */
export function createLogger(opts: { level: string; pretty?: boolean; destination?: NodeJS.WritableStream }): Logger {
  const pretty = opts.pretty ?? Boolean(process.stdout.isTTY);
  const dest = opts.destination ?? process.stdout;
  return pino(
    {
      level: opts.level,
      base: undefined,
      redact: { paths: ['password', '*.password', 'pass', '*.pass', 'auth', '*.auth', 'imapUrl', 'smtpUrl', 'databaseUrl'], censor: '***' },
    },
    pretty ? prettyStream(dest) : (dest as NodeJS.WritableStream & { write: (s: string) => boolean }),
  );
}

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO ', 40: 'WARN ', 50: 'ERROR', 60: 'FATAL' };

/** A value as it reads best on one line: bare when it is one word, quoted (newlines escaped) otherwise. */
function plain(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v) ?? String(v);
}

function prettyStream(out: NodeJS.WritableStream): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        try {
          const { time, level, msg, err, ...rest } = JSON.parse(line) as Record<string, unknown>;
          const t = new Date(time as number).toISOString().slice(11, 23);
          const fields = Object.entries(rest).map(([k, v]) => `${k}=${plain(v)}`).join(' ');
          // Call sites log either an Error (serialised by pino) or just its message as a string.
          const message = err && typeof err === 'object' ? (err as { message?: string }).message : err;
          const e = message === undefined ? '' : ` err=${JSON.stringify(String(message))}`;
          out.write(`${t} ${LEVELS[level as number] ?? level} ${msg}${fields ? ` ${fields}` : ''}${e}\n`);
        } catch {
          out.write(`${line}\n`);
        }
      }
      cb();
    },
  });
}
