import { parseArgs, type ParseArgsConfig } from 'node:util';
import { MailgrantError } from '../shared/errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * node:util parseArgs, with its errors ("Unknown option '--aprove'") turned into one clear line
 * and the command's usage, instead of a stack trace.
 */
export function parseFlags<O extends Options>(args: string[], options: O, usage: string) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new MailgrantError('invalid_input', `${(err as Error).message.replace(/\.$/, '')}. Usage: ${usage}`, { cause: err });
  }
}
