import { createHash } from 'node:crypto';
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from 'pino';
import { isMailgrantError } from '../shared/errors.js';
import { parseRules, RulesError, type Rules } from './rules.js';

/**
 * Reloads the rules file while the daemon runs: on SIGHUP (the caller calls `reload('SIGHUP')`)
 * and when the file changes. A new file is validated exactly as at start; an invalid one is
 * refused with the same messages and the rules in force stay in force.
 *
 * The folder is watched, not the file: editors save by writing a new file and renaming it over
 * the old one, after which a watch on the old file's inode would never fire again. Events come in
 * bursts (truncate, write, rename), hence the debounce, and an unchanged content is not reloaded.
 */
export type ReloadTrigger = 'SIGHUP' | 'file-change';

export interface ReloadInfo {
  trigger: ReloadTrigger;
  file: string;
  /** SHA-256 of the file's bytes, for the audit trail. */
  sha256: string | null;
}

export interface RulesWatcher {
  start(): void;
  stop(): void;
  /** Reads, validates and applies the file now; resolves when done (never rejects). */
  reload(trigger: ReloadTrigger): Promise<void>;
}

export interface RulesWatcherOptions {
  file: string;
  onRules: (rules: Rules, info: ReloadInfo) => void | Promise<void>;
  /** Called with the refusal (already logged), e.g. to audit it. */
  onRefused?: (problem: string, info: ReloadInfo) => void | Promise<void>;
  logger: Logger;
  debounceMs?: number;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export function createRulesWatcher(o: RulesWatcherOptions): RulesWatcher {
  const log = o.logger.child({ component: 'rules', rulesFile: o.file });
  const debounceMs = o.debounceMs ?? 250;
  let watcher: FSWatcher | null = null;
  let timer: NodeJS.Timeout | null = null;
  let lastHash: string | null = null;
  // One reload at a time, in order: a SIGHUP during a file-change reload waits for it.
  let chain: Promise<void> = Promise.resolve();

  const readText = (): string | null => {
    try {
      return readFileSync(o.file, 'utf8');
    } catch {
      return null;
    }
  };

  async function apply(trigger: ReloadTrigger): Promise<void> {
    const text = readText();
    const info: ReloadInfo = { trigger, file: o.file, sha256: text === null ? null : sha256(text) };
    if (text === null) {
      // A file that disappears (or is half-renamed) is not a request to fall back to the example.
      const problem = `the rules file ${o.file} cannot be read; the rules in force stay in force`;
      log.error({ trigger }, problem);
      await o.onRefused?.(problem, info);
      return;
    }
    if (trigger === 'file-change' && info.sha256 === lastHash) return;
    let rules: Rules;
    try {
      rules = parseRules(text, o.file);
    } catch (err) {
      const problem = isMailgrantError(err) ? err.message : String(err);
      log.error({ trigger, problems: err instanceof RulesError ? err.problems : undefined }, `${problem}\nThe rules in force stay in force.`);
      // Remember the refused content, so the same bad file is not refused again on every event.
      lastHash = info.sha256;
      await o.onRefused?.(problem, info);
      return;
    }
    lastHash = info.sha256;
    await o.onRules(rules, info);
    log.info({ trigger, products: rules.products.length, ownRequestProcess: rules.ownRequestProcess.enabled }, 'rules reloaded');
  }

  const self: RulesWatcher = {
    start() {
      if (watcher) return;
      const text = readText();
      lastHash = text === null ? null : sha256(text);
      try {
        watcher = watch(dirname(o.file), { persistent: false }, (_event, name) => {
          if (name !== null && name !== basename(o.file)) return;
          if (timer) clearTimeout(timer);
          timer = setTimeout(() => {
            timer = null;
            void self.reload('file-change');
          }, debounceMs);
        });
        watcher.on('error', (err) => log.warn({ err: err.message }, 'watching the rules file failed; reload with SIGHUP'));
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'cannot watch the rules file; reload it with SIGHUP');
      }
    },
    stop() {
      if (timer) clearTimeout(timer);
      timer = null;
      watcher?.close();
      watcher = null;
    },
    reload(trigger) {
      chain = chain.then(() =>
        apply(trigger).catch((err: unknown) => {
          log.error({ err, trigger }, 'reloading the rules failed; the rules in force stay in force');
        }),
      );
      return chain;
    },
  };
  return self;
}
