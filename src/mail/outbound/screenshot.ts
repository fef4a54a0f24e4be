/**
 * Screenshots of rendered mails through the system's headless Chromium (Debian's `chromium`
 * package), driven by playwright-core. Nothing is downloaded: playwright-core ships no browser,
 * and pages get no network at all, so a template that links a remote image shows what a mail
 * client with remote content blocked would show.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { MailgrantError } from '../../shared/errors.js';

export const DEFAULT_CHROMIUM = '/usr/bin/chromium';

export interface Screenshotter {
  /** Renders `html` at the screenshot width and writes a full-page PNG to `file`. */
  shoot(html: string, file: string): Promise<void>;
  close(): Promise<void>;
}

export interface ScreenshotOptions {
  executablePath?: string;
  /** Page width in CSS pixels: a little wider than the 600 px mail body, like a mail client's pane. */
  width?: number;
}

// Everything that would make Chromium talk to the network or keep state between runs is off.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function openScreenshotter(o: ScreenshotOptions = {}): Promise<Screenshotter> {
  const executablePath = o.executablePath ?? DEFAULT_CHROMIUM;
  if (!existsSync(executablePath)) {
    throw new MailgrantError(
      'not_found',
      `Screenshots need Chromium, which is not installed at ${executablePath}. On Debian or Ubuntu: apt-get install chromium (and fonts-noto-cjk for Traditional Chinese).`,
    );
  }
  // A fresh profile each time: no cookies, cache or extensions from an earlier run.
  const userDataDir = mkdtempSync(path.join(tmpdir(), 'mailgrant-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: o.width ?? 800, height: 600 },
      deviceScaleFactor: 1,
      offline: true,
      timeout: 60_000,
    });
  } catch (err) {
    rmSync(userDataDir, { recursive: true, force: true });
    const first = ((err as Error).message ?? String(err)).split('\n')[0];
    throw new MailgrantError('internal', `Chromium at ${executablePath} did not start: ${first}`, { cause: err });
  }
  // Belt and braces with `offline`: no request leaves the page, whatever a template links.
  await context.route('**/*', (route) => route.abort());
  let closed = false;
  return {
    async shoot(html, file) {
      const page = await context.newPage();
      try {
        await page.setContent(html, { waitUntil: 'load' });
        await page.screenshot({ path: file, fullPage: true, type: 'png' });
      } finally {
        await page.close();
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await context.close().catch(() => {});
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
