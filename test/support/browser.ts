import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { packageRoot } from '../../src/util/package-root.js';

/**
 * Real headless Chromium for the console's tests: Debian's /usr/bin/chromium (or WRIT_CHROMIUM)
 * driven by playwright-core, never a downloaded browser, with a fresh profile each run. Without a
 * Chromium the tests skip and say so; under CI (CI=true) a missing Chromium fails instead.
 */
export const CHROMIUM = process.env.WRIT_CHROMIUM ?? '/usr/bin/chromium';

/** The folder the browser tests save screenshots in (.ci/run prints it). */
export const SCREENSHOTS = process.env.WRIT_SCREENSHOTS ?? join(packageRoot(), 'dist', 'screenshots');

/** Why the browser tests cannot run here, or null when they can. Throws under CI. */
export function chromiumMissing(): string | null {
  if (existsSync(CHROMIUM)) return null;
  const why = `no Chromium at ${CHROMIUM} (apt-get install chromium, or set WRIT_CHROMIUM): the console's browser tests are skipped`;
  if (process.env.CI === 'true') throw new Error(`${why} — but CI=true, where they must run`);
  process.stderr.write(`writ test: ${why}\n`);
  return why;
}

/** A browser with a fresh profile (its own --user-data-dir, so no key or pin carries over). */
export async function launchChromium(viewport = { width: 1100, height: 900 }): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'writ-chromium-'));
  mkdirSync(SCREENSHOTS, { recursive: true });
  // Playwright passes the profile folder as --user-data-dir itself (it refuses the flag in args).
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
