import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EXAMPLE_RULES_YAML } from '../../src/config/example-rules.js';
import { parseRules, type Rules } from '../../src/config/rules.js';
import { createRulesWatcher, type ReloadInfo, type RulesWatcher } from '../../src/config/rules-watcher.js';
import { memoryLogger } from '../helpers/app.js';

type Event = { kind: 'rules'; rules: Rules; info: ReloadInfo } | { kind: 'refused'; problem: string; info: ReloadInfo };

/** Reload of the rules file on change and on SIGHUP; an invalid file is refused and the old rules stay. */
describe('rules watcher', () => {
  let dir: string;
  let watcher: RulesWatcher | null = null;
  afterEach(() => {
    watcher?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function setup() {
    dir = mkdtempSync(join(tmpdir(), 'mg-rules-'));
    const file = join(dir, 'rules.yaml');
    writeFileSync(file, EXAMPLE_RULES_YAML);
    const events: Event[] = [];
    let wake: (() => void) | null = null;
    const push = (e: Event) => {
      events.push(e);
      wake?.();
    };
    const { logger, lines } = memoryLogger();
    watcher = createRulesWatcher({
      file, logger, debounceMs: 50,
      onRules: (rules, info) => push({ kind: 'rules', rules, info }),
      onRefused: (problem, info) => push({ kind: 'refused', problem, info }),
    });
    watcher.start();
    /** The next event, waiting for it when none is queued. */
    const next = async (): Promise<Event> => {
      const deadline = Date.now() + 10_000;
      while (events.length === 0) {
        if (Date.now() > deadline) throw new Error('no reload event within 10 s');
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 250);
        });
      }
      return events.shift()!;
    };
    return { file, next, events, lines };
  }

  it('applies a changed file, refuses an invalid one with the start-up messages, and reloads on SIGHUP', async () => {
    const { file, next, lines } = setup();
    writeFileSync(file, EXAMPLE_RULES_YAML.replace('enabled: false', 'enabled: true'));
    const changed = await next();
    expect(changed.kind).toBe('rules');
    expect(changed.kind === 'rules' && changed.rules.ownRequestProcess.enabled).toBe(true);
    expect(changed.info).toMatchObject({ trigger: 'file-change', file, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });

    const invalid = EXAMPLE_RULES_YAML.replace('seats: 10', 'seats: lots');
    writeFileSync(file, invalid);
    const refused = await next();
    expect(refused.kind).toBe('refused');
    // Word for word what the daemon says when it refuses to start on that file.
    expect(() => parseRules(invalid, file)).toThrow(refused.kind === 'refused' ? refused.problem : 'unreachable');
    expect(refused.kind === 'refused' && refused.problem).toMatch(/rules\.yaml is invalid:\n {2}- products\[0\]\.seats: .*expected a number of seats/);
    expect(lines.some((l) => l.includes('"level":50') && l.includes('The rules in force stay in force'))).toBe(true);

    // An editor's save: a new file renamed over the old one.
    writeFileSync(join(dir, '.rules.yaml.swp'), EXAMPLE_RULES_YAML);
    renameSync(join(dir, '.rules.yaml.swp'), file);
    const saved = await next();
    expect(saved.kind === 'rules' && saved.rules.ownRequestProcess.enabled).toBe(false);

    await watcher!.reload('SIGHUP');
    const hup = await next();
    expect(hup).toMatchObject({ kind: 'rules', info: { trigger: 'SIGHUP' } });
  });

  it('keeps the rules in force when the file disappears', async () => {
    const { file, next } = setup();
    rmSync(file);
    await watcher!.reload('SIGHUP');
    const e = await next();
    expect(e).toMatchObject({ kind: 'refused', problem: expect.stringContaining('cannot be read; the rules in force stay in force') });
  });
});
