#!/usr/bin/env node
// `npm run bench`: runs the TypeScript benchmarks (src/bench) through tsx's loader, like bin/lenspress.mjs.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/bench/main.ts');
process.exitCode = await main(process.argv.slice(2));
