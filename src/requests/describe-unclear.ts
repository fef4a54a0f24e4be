import type { UnclearReason } from './reply-grammar/index.js';

/** One English sentence for an unclear reply, for `mailgrant explain` and logs (mails use the templates). */
export function describeUnclear(reason: UnclearReason): string {
  switch (reason.code) {
    case 'empty':
      return 'nothing was written above the quoted message';
    case 'no_command':
      return `no command Mailgrant can act on without guessing was found in "${reason.text.slice(0, 80)}"`;
    case 'negation':
      return `"${reason.phrase}" is a negation; Mailgrant never approves from a negated sentence`;
    case 'unknown_name':
      return `nobody on this request matches '${reason.name}'`;
    case 'ambiguous_name':
      return `${reason.matches.length} people on this request match '${reason.name}': ${reason.matches.join(', ')}; reply with the full address`;
    case 'conflict':
      return `${reason.email} is both approved and denied`;
    case 'nobody_pending':
      return 'everyone on this request is already decided';
  }
}
