import type { Admin, Role, Rules } from '../config/rules.js';
import { MailgrantError } from '../shared/errors.js';

/**
 * Who may act from the command line. Deciding, sharing and assigning are admin work: the three
 * roles of the rules file may all do it. Everyone else decides by replying to a share, and only
 * for the request of that share (the reply token is per share, see replies.ts).
 */
export type AdminAction = 'decide' | 'share' | 'assign' | 'revoke' | 'set-seats';

export const ROLES_BY_ACTION: Readonly<Record<AdminAction, readonly Role[]>> = {
  decide: ['global-admin', 'license-admin', 'user-admin'],
  share: ['global-admin', 'license-admin', 'user-admin'],
  assign: ['global-admin', 'license-admin', 'user-admin'],
  revoke: ['global-admin', 'license-admin', 'user-admin'],
  'set-seats': ['global-admin', 'license-admin', 'user-admin'],
};

const VERB: Record<AdminAction, string> = {
  decide: 'decide requests',
  share: 'share requests',
  assign: 'assign licences',
  revoke: 'revoke licences',
  'set-seats': 'change seat counts',
};

/** The admin acting, or a refusal naming the roles that may do this. */
export function requireRole(rules: Rules, actor: string | undefined, action: AdminAction): Admin {
  const roles = ROLES_BY_ACTION[action];
  const needed = roles.length === 1 ? `the role ${roles[0]}` : `one of the roles ${roles.join(', ')}`;
  if (!actor || !actor.trim()) {
    throw new MailgrantError('forbidden', `Say who you are with --as ADDRESS: to ${VERB[action]} you need ${needed}.`);
  }
  const admin = rules.admin(actor.trim());
  if (!admin || !roles.includes(admin.role)) {
    const has = admin ? ` (${actor.trim()} is ${admin.role})` : ` (${actor.trim()} has no admin role in ${rules.source})`;
    throw new MailgrantError('forbidden', `${actor.trim()} may not ${VERB[action]}: that needs ${needed}${has}.`, {
      details: { actor, action, roles },
    });
  }
  return admin;
}
