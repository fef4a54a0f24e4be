import nodemailer from 'nodemailer';

const builder = nodemailer.createTransport({ streamTransport: true, buffer: true });

export interface TestMail {
  from: string;
  to: string;
  subject: string;
  text?: string;
  html?: string;
  inReplyTo?: string;
  references?: string[];
  messageId?: string;
  headers?: Record<string, string>;
  date?: Date;
  attachments?: { filename: string; content: string | Buffer; contentType?: string }[];
}

/** Builds a real RFC 5322 message with nodemailer's composer, as a mail client would send it. */
export async function buildMail(m: TestMail): Promise<Buffer> {
  const info = await builder.sendMail({ ...m, date: m.date ?? new Date() });
  return info.message as Buffer;
}

/** A reply as Gmail writes it: the answer, an attribution line, then the original quoted with "> ". */
export function quoteBelow(answer: string, original: string, who = 'Contoso Licences <licenses@contoso.example>'): string {
  const quoted = original.split('\n').map((l) => `> ${l}`).join('\n');
  return `${answer}\n\nOn Fri, 20 Nov 2026 at 15:04, ${who} wrote:\n${quoted}\n`;
}

/** A message cut off on its way: its final line break is gone, so its last line is partial (see `isCut`). */
export function cutOff(raw: Buffer): Buffer {
  return raw.subarray(0, raw.length - 2);
}
