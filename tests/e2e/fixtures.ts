/**
 * Test fixtures for Debian's chromium: Playwright's bundled browsers cannot be downloaded
 * here, and chromium rejects --user-data-dir in args, so each test gets a persistent context
 * in a fresh profile folder. Use `test.use({ javaScriptEnabled: false })` for no-JS checks.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test as base, chromium, expect } from '@playwright/test';

export const CHROMIUM = '/usr/bin/chromium';

const ARGS = [
  '--headless',
  '--no-sandbox', // we run as root in CI containers
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking', // no calls home that could look like third-party requests
  '--disable-component-update',
  '--disable-sync',
  '--enable-unsafe-webgpu', // exposes navigator.gpu (SwiftShader) for the live figures
];

interface Fixtures {
  /** Console errors and uncaught page errors from every page of the test's context. */
  consoleErrors: string[];
  /** Every URL the pages requested, so tests can check nothing leaves the site. */
  requests: string[];
}

export const test = base.extend<Fixtures>({
  consoleErrors: async ({}, use) => {
    await use([]);
  },
  requests: async ({}, use) => {
    await use([]);
  },
  context: async ({ javaScriptEnabled, baseURL, viewport, colorScheme, consoleErrors, requests }, use) => {
    const profile = await mkdtemp(path.join(tmpdir(), 'lenspress-e2e-'));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      javaScriptEnabled: javaScriptEnabled ?? true,
      baseURL,
      viewport,
      colorScheme,
    });
    context.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(`console: ${msg.text()} (${msg.location().url})`);
    });
    context.on('weberror', (err) => consoleErrors.push(`pageerror: ${err.error().message}`));
    context.on('request', (req) => requests.push(req.url()));
    await use(context);
    await context.close();
    await rm(profile, { recursive: true, force: true });
  },
  page: async ({ context }, use) => {
    // A persistent context opens with one blank tab: use it rather than a second window.
    await use(context.pages()[0] ?? (await context.newPage()));
  },
});

export { expect };
