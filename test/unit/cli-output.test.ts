import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { colourEnabled, displayWidth, palette, progress, table } from '../../src/cli/output.js';

function fakeStream(isTTY: boolean): Writable & { isTTY: boolean; written: string } {
  const s = new Writable({
    write(chunk: Buffer, _e, cb) {
      s.written += chunk.toString('utf8');
      cb();
    },
  }) as Writable & { isTTY: boolean; written: string };
  s.isTTY = isTTY;
  s.written = '';
  return s;
}

/** How the admin console prints for people: aligned, coloured only on a terminal without NO_COLOR, progress for long runs. */
describe('CLI output', () => {
  it('aligns columns by display width, also with wide characters and colour codes', () => {
    const p = palette(true);
    const out = table(['Name', 'Status', 'Seats'], [['林美玲', p.green('approved'), '1'], ['Bob Smith', p.red('denied'), '12']], p);
    const lines = out.replace(/\x1b\[[0-9;]*m/g, '').trimEnd().split('\n');
    expect(lines).toEqual(['Name       Status    Seats', '林美玲     approved  1', 'Bob Smith  denied    12']);
    expect(displayWidth('林美玲')).toBe(6);
  });

  it('colours only on a terminal and never with NO_COLOR set', () => {
    expect(colourEnabled(fakeStream(true), {})).toBe(true);
    expect(colourEnabled(fakeStream(false), {})).toBe(false);
    expect(colourEnabled(fakeStream(true), { NO_COLOR: '1' })).toBe(false);
    expect(palette(false).red('x')).toBe('x');
  });

  it('shows progress on a terminal for more than 50 people only', () => {
    const tty = fakeStream(true);
    const bar = progress('assigning', tty);
    bar.update(10, 40);
    expect(tty.written).toBe('');
    bar.update(51, 51);
    expect(tty.written).toContain('assigning 51/51 (100%)');
    bar.end();
    const pipe = fakeStream(false);
    progress('assigning', pipe).update(100, 100);
    expect(pipe.written).toBe('');
  });
});
