import type { Page } from 'playwright-core';

/**
 * Imports the ES module at `url` (same origin) into the page and keeps it as
 * window[name]. Sent as a string: vitest rewrites a literal import() in an
 * evaluated function's source, and new Function in the page is refused by the
 * app's CSP (no 'unsafe-eval'); code the test evaluates is not.
 */
export async function importInPage(page: Page, url: string, name: string): Promise<void> {
  await page.evaluate(`(async () => { window[${JSON.stringify(name)}] ??= await import(${JSON.stringify(url)}); })()`);
}
