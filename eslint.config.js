// @ts-check
import { defineConfig, globalIgnores } from 'eslint/config';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

// Flat config. Globals are per folder so that browser-only code cannot quietly use `process`
// and Node code cannot quietly use `document` (src/core has neither: it must run everywhere).
// .astro files are checked by `astro check`, not here (no eslint-plugin-astro installed).
export default defineConfig(
  globalIgnores(['dist/', '.astro/', 'node_modules/', 'public/generated/', 'test-results/', 'playwright-report/', '.scratch/']),
  js.configs.recommended,
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommended],
    rules: {
      // `_`-prefixed names are deliberately unused (e.g. a destructured prop being dropped).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
    },
  },
  { files: ['src/browser/**'], languageOptions: { globals: { ...globals.browser, ...globals.worker } } },
  {
    files: ['src/node/**', 'src/cli/**', 'scripts/**', 'tests/**', 'bin/**', '*.config.{js,mjs,ts}'],
    languageOptions: { globals: globals.node },
  },
  // Playwright reads a fixture's dependencies from its first parameter, which must be an
  // object pattern: a fixture with no dependencies is written `async ({}, use) => …`.
  { files: ['tests/e2e/**'], rules: { 'no-empty-pattern': 'off' } },
);
