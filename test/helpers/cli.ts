import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root, where `src/cli/index.ts` runs with tsx as `npx tsx src/cli/index.ts` would. */
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ENTRY = ['--import', 'tsx', 'src/cli/index.ts'];

/** The environment of a child: ours without anything that would point it at another database or colour its output. */
function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base = { ...process.env };
  for (const k of ['DATABASE_URL', 'RULES_FILE', 'DATA_DIR', 'IMAP_URL', 'SMTP_URL', 'TEMPLATES_DIR', 'FORCE_COLOR']) delete base[k];
  return { ...base, NO_COLOR: '1', ...env };
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs one `mailgrant` command as a child process (node + tsx, no npx in between so signals and exit codes are the command's own). */
export function runCli(args: string[], env: Record<string, string>, timeoutMs = 180_000): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...ENTRY, ...args], { cwd: REPO_ROOT, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mailgrant ${args.join(' ')} took more than ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface Daemon {
  readonly process: ChildProcess;
  /** Every line it wrote to stdout and stderr so far. */
  readonly lines: string[];
  /** Resolves with the first line (already written or to come) that matches. */
  waitForLine(pattern: RegExp, timeoutMs?: number, after?: number): Promise<string>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

export function startDaemon(env: Record<string, string>): Daemon {
  const child = spawn(process.execPath, [...ENTRY, 'start'], { cwd: REPO_ROOT, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let exited: number | null | undefined;
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => {
    exited = code;
    resolve(code);
    for (const w of waiters) w();
  }));
  const collect = (stream: NodeJS.ReadableStream) => {
    let partial = '';
    stream.on('data', (c: Buffer) => {
      const parts = (partial + c.toString('utf8')).split('\n');
      partial = parts.pop() ?? '';
      lines.push(...parts.filter(Boolean));
      for (const w of waiters) w();
    });
  };
  collect(child.stdout!);
  collect(child.stderr!);
  return {
    process: child,
    lines,
    waitForLine(pattern, timeoutMs = 180_000, after = 0) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = lines.slice(after).find((l) => pattern.test(l));
          if (found !== undefined) {
            done();
            resolve(found);
          } else if (exited !== undefined) {
            done();
            reject(new Error(`the daemon exited (${exited}) before writing ${pattern}:\n${lines.slice(-30).join('\n')}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms:\n${lines.slice(-30).join('\n')}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async stop() {
      if (exited === undefined) child.kill('SIGTERM');
      return exit;
    },
  };
}
