import { defineConfig } from 'vitest/config';

// Unit tests run in Node against local files only (the model comes from ../shared/models or
// LENSPRESS_MODELS). The long timeout covers building ONNX sessions on a slow CI machine.
export default defineConfig({
  test: {
    include: ['tests/unit/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
  },
});
