import type { Rules } from '../config/rules.js';
import type { MailComposer } from '../mail/outbound/compose.js';

/** What the domain needs from the outside: the rules in force, a way to write mails, a clock. */
export interface DomainDeps {
  /** A getter, because the rules can be reloaded while the daemon runs. */
  readonly rules: () => Rules;
  readonly composer: MailComposer;
  readonly clock: () => Date;
}
