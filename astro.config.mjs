// @ts-check
import { defineConfig } from 'astro/config';
import mdx from '@astrojs/mdx';
import remarkMath from 'remark-math';
import rehypeKatex from 'rehype-katex';
import { remarkCitations } from './src/site/remark-citations.ts';

// Static site: every page is pre-rendered, so articles (text, math and the server-rendered
// figure) are readable without JavaScript and can be served from any static host.
export default defineConfig({
  output: 'static',
  integrations: [mdx()],
  markdown: {
    // Math is rendered to HTML at build time; only KaTeX's CSS and fonts ship to readers.
    // remarkCitations fills each article's <Bibliography /> with the works its <Cite>s name.
    remarkPlugins: [remarkMath, remarkCitations],
    rehypePlugins: [rehypeKatex],
  },
  // Loopback only: the dev/preview servers are for local reading and for the e2e tests.
  server: { host: '127.0.0.1', port: 4321 },
  vite: {
    // onnxruntime-web loads its own .wasm/.mjs files at run time; pre-bundling breaks those paths.
    optimizeDeps: { exclude: ['onnxruntime-web'] },
    // The inference Worker is a module worker (it uses `import`).
    worker: { format: 'es' },
  },
});
