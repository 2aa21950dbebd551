// Debian's chromium driven by playwright-core (never a downloaded browser): one browser per
// test file, a fresh profile in a temporary directory, and every page error, console error and
// CSP violation collected so a test can assert there were none.
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { tempDir } from './proc.js';

export const CHROMIUM = '/usr/bin/chromium';

export interface TestBrowser {
  browser: Browser;
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<TestBrowser> {
  const profile = tempDir('ringtail-chromium-');
  // launchPersistentContext is how playwright takes a --user-data-dir.
  const context = await chromium.launchPersistentContext(profile.path, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 860 },
  });
  return {
    browser: context.browser()!,
    context,
    async close() {
      await context.close();
      profile.cleanup();
    },
  };
}

/**
 * Problems the page reported: uncaught errors and console errors other than failed fetches
 * (a 401 before sign-in and a 404 for an API this collector lacks are expected), which
 * includes every CSP violation.
 */
export function watchProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !/^Failed to load resource/.test(msg.text())) problems.push(`console: ${msg.text()}`);
  });
  return problems;
}

/**
 * The browser's first page with its problems watched; given `fired`, every dialog is recorded
 * there and dismissed (log text must never open one, and an open dialog would stall the page).
 */
export async function watchedPage(browser: TestBrowser, fired?: string[]): Promise<{ page: Page; problems: string[] }> {
  const page = browser.context.pages()[0] ?? (await browser.context.newPage());
  const problems = watchProblems(page);
  if (fired)
    page.on('dialog', (d) => {
      fired.push('dialog ' + d.message());
      void d.dismiss();
    });
  return { page, problems };
}

/** Signs in from a clean slate (the profile is shared by the tests of a file). */
export async function signIn(page: Page, url: string, token: string): Promise<void> {
  await page.context().clearCookies();
  await page.goto(url + '/');
  await page.fill('#token', token);
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('#nav:not([hidden])');
}
