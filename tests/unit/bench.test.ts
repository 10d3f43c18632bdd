/**
 * The benchmark's helpers (no timing is asserted anywhere): the ratio/median/range statistics
 * and the interleaving order, the page-weight counter on a tiny fixture site, the ORT trace
 * summariser, and the flag parser.
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBenchArgs } from '../../src/bench/main.ts';
import { htmlReferences, pageWeight, staticImports } from '../../src/bench/page-weight.ts';
import { summarizeTrace } from '../../src/bench/profile.ts';
import { formatSummary, interleave, median, ratios, summarize } from '../../src/bench/stats.ts';
import { modelToF32Gguf, syntheticSpmVocab } from '../../src/bench/gguf-f32.ts';
import { ggufNumber, parseGguf, readGgufTensor } from '../../src/core/formats/gguf.ts';
import { ropeRowsToHalf } from '../../src/core/formats/rope-permute.ts';
import { randomModel, tinyConfig } from '../../src/core/model/random.ts';

describe('ratio statistics', () => {
  it('median of odd and even counts, unsorted input left alone', () => {
    const xs = [5, 1, 3];
    expect(median(xs)).toBe(3);
    expect(xs).toEqual([5, 1, 3]);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow();
  });

  it('summary is median and range; ratios are per round', () => {
    expect(summarize([1.2, 0.9, 1.1, 3.0, 1.0])).toEqual({ median: 1.1, min: 0.9, max: 3.0, n: 5 });
    expect(ratios([2, 3, 9], [1, 2, 3])).toEqual([2, 1.5, 3]);
    expect(() => ratios([1], [1, 2])).toThrow();
    expect(formatSummary(summarize([1.234, 1.0, 1.5]))).toBe('1.23× (1.00–1.50)');
  });

  it('interleave warms up both sides, alternates the first of each pair, and takes per-round medians', async () => {
    const calls: string[] = [];
    let ai = 0, bi = 0;
    // A's calls return 10, 20, 30, …; B's always 5 (after a warm-up value of 1000 that must be ignored)
    const a = async () => (calls.push('a'), ai++ === 0 ? 1000 : 10 * ai - 10);
    const b = async () => (calls.push('b'), bi++ === 0 ? 1000 : 5);
    const r = await interleave(2, a, b, 3);
    expect(calls.join('')).toBe('ab' + 'ab' + 'ba' + 'ab' + 'ba' + 'ab' + 'ba');
    // round 1: A calls 10, 20, 30 → median 20; round 2: 40, 50, 60 → 50
    expect(r.a).toEqual([20, 50]);
    expect(r.b).toEqual([5, 5]);
    expect(r.ratio).toEqual([4, 10]);
    await expect(interleave(0, a, b)).rejects.toThrow(/rounds/);
  });
});

describe('page weight', () => {
  let dist: string;
  const files: Record<string, string> = {
    'articles/x/index.html': [
      '<!doctype html><html><head>',
      '<link rel="stylesheet" href="/_astro/a.css">',
      "<link rel='modulepreload' href='/_astro/pre.js'>",
      '<link rel="icon" href="/favicon.svg">',
      '<!-- <script src="/_astro/commented.js"></script> -->',
      '</head><body><script type="module" src="../../_astro/main.js?v=1"></script>',
      '<script>console.log("inline")</script><script type="application/json">{"a":1}</script></body></html>',
    ].join('\n'),
    '_astro/a.css': '@import "./b.css";\nbody{color:red;background:url(/_astro/font.woff2)}',
    '_astro/b.css': 'p{margin:0}',
    '_astro/pre.js': 'export const p=1;',
    '_astro/main.js': 'import{d as e}from"./dep.js";import"./side.js";const w=new Worker(new URL("./worker.js",import.meta.url));import("./lazy.js").then(()=>e);const s="import nothing";',
    '_astro/dep.js': 'import{x}from"./main.js";export{y as d}from"./dep2.js";export*from"./dep3.js";',
    '_astro/dep2.js': 'export const y=2;',
    '_astro/dep3.js': 'export const z=3;',
    '_astro/side.js': 'console.log(import.meta.url);',
    '_astro/lazy.js': 'export const lazy=1;'.repeat(100),
    '_astro/worker.js': 'self.onmessage=()=>{};'.repeat(100),
    '_astro/commented.js': 'x'.repeat(1000),
    '_astro/font.woff2': 'f'.repeat(1000),
  };

  beforeAll(() => {
    dist = mkdtempSync(path.join(tmpdir(), 'lenspress-pw-'));
    for (const [f, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(dist, f)), { recursive: true });
      writeFileSync(path.join(dist, f), text);
    }
  });
  afterAll(() => rmSync(dist, { recursive: true, force: true }));

  it('finds what an HTML page loads by itself', () => {
    expect(htmlReferences(files['articles/x/index.html'])).toEqual({ css: ['/_astro/a.css'], js: ['/_astro/pre.js', '../../_astro/main.js?v=1'] });
  });

  it('static imports only, in minified code', () => {
    expect(staticImports(files['_astro/main.js']).sort()).toEqual(['./dep.js', './side.js']);
    expect(staticImports(files['_astro/dep.js']).sort()).toEqual(['./dep2.js', './dep3.js', './main.js']);
  });

  it('counts HTML, linked CSS with @import, and JS followed through static imports (not dynamic ones, workers, fonts or comments)', () => {
    const w = pageWeight(dist, '/articles/x/');
    const counted = ['articles/x/index.html', '_astro/a.css', '_astro/b.css', '_astro/pre.js', '_astro/main.js', '_astro/dep.js', '_astro/dep2.js', '_astro/dep3.js', '_astro/side.js'];
    expect(w.assets.map((a) => a.url).sort()).toEqual(['/articles/x/', ...counted.slice(1).map((f) => `/${f}`)].sort());
    const size = (fs: string[]) => fs.reduce((s, f) => s + Buffer.byteLength(files[f]), 0);
    const gz = (fs: string[]) => fs.reduce((s, f) => s + gzipSync(Buffer.from(files[f])).length, 0);
    expect(w.total.bytes).toBe(size(counted));
    expect(w.total.gzip).toBe(gz(counted));
    const js = counted.filter((f) => f.endsWith('.js'));
    expect(w.byKind.js).toEqual({ bytes: size(js), gzip: gz(js) });
    expect(w.byKind.css.bytes).toBe(size(['_astro/a.css', '_astro/b.css']));
    expect(w.byKind.html.bytes).toBe(size(['articles/x/index.html']));
    expect(w.missing).toEqual([]);
  });

  it('reports references that are not in dist/', () => {
    writeFileSync(path.join(dist, 'articles/x/broken.html'), '<link rel="stylesheet" href="/nope.css"><script src="https://cdn.example/x.js"></script>');
    const w = pageWeight(dist, '/articles/x/broken.html');
    expect(w.missing).toEqual(['/nope.css', 'https://cdn.example/x.js']);
    expect(w.assets.length).toBe(1);
  });
});

describe('ORT trace summary', () => {
  it('sums kernel times per op type, per run, skipping the first run', () => {
    const ev = (cat: string, name: string, ts: number, dur: number, op?: string) => ({ cat, name, ts, dur, args: op ? { op_name: op } : {} });
    const trace = [
      ev('Session', 'model_run', 0, 100),
      ev('Node', 'mm_kernel_time', 10, 90, 'MatMul'),
      ev('Session', 'model_run', 200, 50),
      ev('Node', 'mm_kernel_time', 210, 30, 'MatMul'),
      ev('Node', 'mm_fence_before', 210, 0, 'MatMul'),
      ev('Node', 'id_kernel_time', 240, 10, 'Identity'),
      ev('Session', 'model_run', 300, 70),
      ev('Node', 'mm_kernel_time', 310, 50, 'MatMul'),
    ];
    const s = summarizeTrace(trace);
    expect(s.runs).toBe(2);
    expect(s.modelRunMs).toBeCloseTo(0.06, 12); // (50 + 70) / 2 µs
    expect(s.kernelMs).toBeCloseTo(0.045, 12);
    expect(s.ops).toEqual([
      { op: 'MatMul', ms: 0.04, nodes: 1 },
      { op: 'Identity', ms: 0.005, nodes: 0.5 },
    ]);
  });
});

describe('bench flags and the synthetic GGUF vocabulary', () => {
  it('parses flags and refuses unknown rows', () => {
    expect(parseBenchArgs([])).toMatchObject({ only: [], rounds: 7, quick: false, json: false });
    expect(parseBenchArgs(['--quick', '--only', 'prefill,lens-grid', '--json'])).toMatchObject({ only: ['prefill', 'lens-grid'], rounds: 3, json: true });
    expect(parseBenchArgs(['--rounds', '9'])).toMatchObject({ rounds: 9 });
    expect(() => parseBenchArgs(['--only', 'nope'])).toThrow(/rows are hooks-overhead/);
    expect(() => parseBenchArgs(['--rounds', '0'])).toThrow(/whole number/);
  });

  it('vocabulary: control tokens, 256 byte tokens, distinct pieces', () => {
    const v = syntheticSpmVocab(300);
    expect(v.tokens.slice(0, 4)).toEqual(['<unk>', '<s>', '</s>', '<0x00>']);
    expect(v.tokens[258]).toBe('<0xFF>');
    expect(new Set(v.tokens).size).toBe(300);
    expect(Array.from(v.types.slice(0, 5))).toEqual([2, 3, 3, 6, 6]);
    expect(v.types[299]).toBe(1);
  });
});

describe('the benchmark GGUF', () => {
  it('reads back as the same model: q/k rows in GGUF pairing, tied output omitted, llama metadata', () => {
    const m = randomModel(tinyConfig('llama', { rope_scaling: null, rope_style: 'half', tied_embeddings: true, d_vocab: 300 }), 7);
    const c = m.config;
    const f = parseGguf(modelToF32Gguf(m, 'tiny'), 'tiny.gguf');
    expect(ggufNumber(f, 'llama.attention.head_count_kv')).toBe(c.n_kv_heads);
    expect(ggufNumber(f, 'llama.embedding_length')).toBe(c.d_model);
    expect(f.tensors.has('output.weight')).toBe(false);
    expect(readGgufTensor(f, 'token_embd.weight')).toEqual(m.weights.W_E);
    const b = m.weights.blocks[1];
    const q = readGgufTensor(f, 'blk.1.attn_q.weight');
    expect(q).not.toEqual(b.W_Q); // permuted …
    expect(ropeRowsToHalf(q, c.n_heads, c.d_head, c.d_model)).toEqual(b.W_Q); // … and back exactly
    expect(ropeRowsToHalf(readGgufTensor(f, 'blk.1.attn_k.weight'), c.n_kv_heads, c.d_head, c.d_model)).toEqual(b.W_K);
    expect(readGgufTensor(f, 'blk.1.ffn_down.weight')).toEqual(b.W_out);
  });
});
