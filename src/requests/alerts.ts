import type { Repos } from '../db/store.js';
import type { DomainDeps } from './deps.js';
import { common } from './views.js';

/** Tells every admin about something that needs a person: a quarantined message, a mail that could not be sent. */
export async function alertAdmins(repos: Repos, deps: DomainDeps, alert: { title: string; lines: string[]; dedupeKey: string }): Promise<void> {
  const rules = deps.rules();
  for (const admin of rules.admins) {
    await repos.outbox.enqueue(
      deps.composer.compose('admin-alert', { ...common(rules, admin.email), title: alert.title, lines: alert.lines }, {
        to: admin.email, dedupeKey: `admin-alert:${alert.dedupeKey}:${admin.email}`, requestId: null,
      }),
    );
  }
}
