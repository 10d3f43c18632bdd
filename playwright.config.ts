import { defineConfig } from '@playwright/test';

const PORT = 4321;
const baseURL = `http://127.0.0.1:${PORT}`;

/**
 * End-to-end tests against the built site (run `npm run build` first: the web server is
 * `astro preview`, which serves dist/ as it is). Playwright's own browsers cannot be
 * downloaded here, so tests use Debian's chromium through tests/e2e/fixtures.ts.
 */
export default defineConfig({
  testDir: 'tests/e2e',
  workers: 1, // one live model at a time: figures run inference in the page
  fullyParallel: false,
  timeout: 120_000,
  reporter: 'list',
  forbidOnly: !!process.env.CI,
  use: {
    baseURL,
    // For any test that uses the stock `browser` fixture instead of ours.
    browserName: 'chromium',
    launchOptions: { executablePath: '/usr/bin/chromium' },
  },
  webServer: {
    command: 'npm run preview',
    url: baseURL,
    reuseExistingServer: false,
    timeout: 60_000,
  },
});
