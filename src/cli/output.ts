/**
 * How CLI commands print: aligned tables for people, JSON for scripts (`--json`), colour only on
 * a terminal and never with NO_COLOR set, progress on stderr for long bulk runs on a terminal.
 */
export interface Palette {
  green(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

type Stream = NodeJS.WritableStream & { isTTY?: boolean };

export function colourEnabled(stream: Stream = process.stdout, env: NodeJS.ProcessEnv = process.env): boolean {
  // https://no-color.org: present and not empty disables colour.
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return Boolean(stream.isTTY);
}

export function palette(enabled: boolean): Palette {
  const sgr = (open: number, close: number) => (s: string) => (enabled && s ? `\x1b[${open}m${s}\x1b[${close}m` : s);
  return { green: sgr(32, 39), red: sgr(31, 39), yellow: sgr(33, 39), dim: sgr(2, 22), bold: sgr(1, 22) };
}

const ANSI = /\x1b\[[0-9;]*m/g;

/** Terminal columns a string takes: East Asian wide characters take two (林美玲 is six). */
export function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s.replace(ANSI, '')) {
    const c = ch.codePointAt(0)!;
    if (c < 32 || (c >= 0x300 && c <= 0x36f)) continue;
    const wide =
      (c >= 0x1100 && c <= 0x115f) || (c >= 0x2e80 && c <= 0xa4cf) || (c >= 0xac00 && c <= 0xd7a3) ||
      (c >= 0xf900 && c <= 0xfaff) || (c >= 0xfe30 && c <= 0xfe4f) || (c >= 0xff00 && c <= 0xff60) ||
      (c >= 0xffe0 && c <= 0xffe6) || (c >= 0x1f300 && c <= 0x1faff) || (c >= 0x20000 && c <= 0x3fffd);
    w += wide ? 2 : 1;
  }
  return w;
}

/** Columns padded to the widest cell; the last column is not padded (no trailing spaces). */
export function table(headers: readonly string[], rows: readonly (readonly string[])[], p: Palette = palette(false)): string {
  const widths = headers.map((h, i) => Math.max(displayWidth(h), ...rows.map((r) => displayWidth(r[i] ?? ''))));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(widths[i]! - displayWidth(c))))
      .join('  ')
      .trimEnd();
  return [p.bold(line(headers)), ...rows.map(line)].join('\n') + '\n';
}

export function toJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** "2026-11-20 15:04" in UTC, so that the same request reads the same everywhere. */
export function formatTime(d: Date | string | null | undefined): string {
  if (!d) return '';
  const date = typeof d === 'string' ? new Date(d) : d;
  return `${date.toISOString().slice(0, 16).replace('T', ' ')}Z`;
}

export interface Progress {
  update(done: number, total: number): void;
  end(): void;
}

/** A one-line counter on stderr, only for more than `threshold` items and only on a terminal. */
export function progress(label: string, stream: Stream = process.stderr, threshold = 50): Progress {
  let shown = false;
  let last = 0;
  return {
    update(done, total) {
      if (total <= threshold || !stream.isTTY) return;
      const now = Date.now();
      if (done !== total && now - last < 50) return;
      last = now;
      shown = true;
      stream.write(`\r${label} ${done}/${total} (${Math.floor((done / total) * 100)}%)`);
    },
    end() {
      if (shown) stream.write('\r\x1b[2K');
      shown = false;
    },
  };
}
