/**
 * Live re-run in Chromium: the article's first logit-lens figure, WebAssembly backend, time
 * from pressing Run to the updated figure (the Worker's result drawn, the element no longer
 * aria-busy, and one animation frame later so style and layout are in). The first Run on a
 * fresh page is the cold one; the second and later are warm (HTTP cache revalidated, wasm
 * compiled code cached by the browser). Each Run starts a new Worker (the page terminates the
 * previous one), so a warm Run still loads the runtime and the model inside the Worker.
 * Per stage (from the figure's status messages): runtime (until the first download message),
 * download + parse (until "Running…"), compute + draw (until done).
 * Chromium flags are those of tests/e2e/fixtures.ts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { serveStatic } from './static-server.ts';

export const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--enable-unsafe-webgpu'];

export interface RunTiming {
  totalMs: number;
  /** ms per stage: runtime, download, compute (may be absent if the page skipped a stage). */
  stages: Record<string, number>;
  status: string;
}

export interface LiveRerun {
  url: string;
  prompt: string;
  cold: RunTiming;
  warm: RunTiming[];
  /**
   * Diagnostic, not the page's path: the page's own Worker script and request, posted
   * `rounds + 1` times to ONE Worker (ms from postMessage to the result, no drawing): the
   * first is a fresh Worker, the rest show what keeping the Worker between Runs would give.
   */
  keptWorker: number[];
  /** Response bytes the page loaded before Run, and on the first Run (as Chromium counts them). */
  bytesBeforeRun: number;
  bytesFirstRun: number;
}

/** In the page, before any Run: remember the URL, options and last request of every Worker the page starts. */
function recordWorkersInPage(): void {
  const W = window.Worker;
  const w = window as unknown as { Worker: typeof Worker; __lpWorker?: { url: string; options?: WorkerOptions; request?: unknown } };
  w.Worker = class extends W {
    constructor(url: string | URL, options?: WorkerOptions) {
      super(url, options);
      const rec: { url: string; options?: WorkerOptions; request?: unknown } = { url: String(url), options };
      w.__lpWorker = rec;
      const post = this.postMessage.bind(this);
      this.postMessage = (message: unknown, ...rest: never[]) => ((rec.request = message), post(message, ...rest));
    }
  };
}

/** In the page: post the recorded request `n` times to one new Worker; ms to each result. */
async function keptWorkerInPage(n: number): Promise<number[]> {
  const rec = (window as unknown as { __lpWorker?: { url: string; options?: WorkerOptions; request?: unknown } }).__lpWorker;
  if (!rec?.request) throw new Error('the page started no Worker to replay');
  const worker = new Worker(rec.url, rec.options);
  const once = () =>
    new Promise<number>((resolve, reject) => {
      const t0 = performance.now();
      worker.onmessage = (e: MessageEvent<{ type: string; message?: string }>) => {
        if (e.data.type === 'result') resolve(performance.now() - t0);
        else if (e.data.type === 'error') reject(new Error(e.data.message));
      };
      worker.postMessage(rec.request);
    });
  const times: number[] = [];
  try {
    for (let i = 0; i < n; i++) times.push(await once());
  } finally {
    worker.terminate();
  }
  return times;
}

/** In the page: press Run and resolve when the figure is updated (or rejected with the status on error). */
function pressRunInPage(sel: string): Promise<{ totalMs: number; marks: [number, string][]; state: string; status: string }> {
  const el = document.querySelector(sel) as HTMLElement;
  const status = el.querySelector('.lp-status')!;
  return new Promise((resolve) => {
    const t0 = performance.now();
    const marks: [number, string][] = [];
    let started = false;
    const obs = new MutationObserver(() => {
      const text = status.textContent ?? '';
      if (marks.length === 0 || marks[marks.length - 1][1] !== text) marks.push([performance.now() - t0, text]);
      if (el.hasAttribute('aria-busy')) started = true;
      else if (started) {
        obs.disconnect();
        requestAnimationFrame(() => resolve({ totalMs: performance.now() - t0, marks, state: el.dataset.state ?? '', status: text }));
      }
    });
    obs.observe(el, { attributes: true, subtree: true, childList: true, characterData: true });
    (el.querySelector('button[name=run]') as HTMLButtonElement).click();
  });
}

function stagesOf(marks: [number, string][], totalMs: number): Record<string, number> {
  const first = (re: RegExp) => marks.find(([, s]) => re.test(s))?.[0];
  const tRuntime = first(/^Loading ONNX Runtime/) ?? 0, tDownload = first(/^Downloading/), tCompute = first(/^Running/);
  const stages: Record<string, number> = {};
  if (tDownload !== undefined) stages.runtime = tDownload - tRuntime;
  if (tCompute !== undefined) {
    if (tDownload !== undefined) stages.download = tCompute - tDownload;
    else stages.runtime = tCompute - tRuntime;
    stages.compute = totalMs - tCompute;
  }
  return stages;
}

export async function measureLiveRerun(distDir: string, article: string, rounds: number, log: (m: string) => void = () => {}): Promise<LiveRerun> {
  const server = await serveStatic(distDir);
  const profile = await mkdtemp(path.join(tmpdir(), 'lenspress-bench-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS });
  try {
    // tsx compiles this file with esbuild's keepNames, which wraps named functions in
    // `__name(fn, "name")`; the functions passed to page.evaluate carry those calls along.
    await context.addInitScript({ content: 'globalThis.__name = (fn) => fn;' });
    const page = context.pages()[0] ?? (await context.newPage());
    let bytes = 0;
    page.on('requestfinished', (req) => void req.sizes().then((s) => (bytes += s.responseBodySize), () => undefined));
    const url = server.origin + article;
    await page.goto(url, { waitUntil: 'networkidle' });
    const sel = 'lp-figure[data-kind="logit-lens"], lp-logit-lens';
    await page.waitForFunction((s) => {
      const b = document.querySelector(s)?.querySelector('button[name=run]') as HTMLButtonElement | null;
      return b !== null && !b.disabled;
    }, sel);
    const prompt = await page.$eval(sel, (el) => (el.querySelector('textarea[name=prompt]') as HTMLTextAreaElement).value);
    await page.$eval(sel, (el) => ((el as HTMLElement).dataset.backend = 'wasm'));
    await page.evaluate(recordWorkersInPage);
    const bytesBeforeRun = bytes;
    const once = async (): Promise<RunTiming> => {
      const r = await page.evaluate(pressRunInPage, sel);
      if (r.state === 'error') throw new Error(`the live run failed: ${r.status}`);
      return { totalMs: r.totalMs, stages: stagesOf(r.marks, r.totalMs), status: r.status };
    };
    const cold = await once();
    await page.waitForLoadState('networkidle');
    const bytesFirstRun = bytes - bytesBeforeRun;
    log(`live-rerun: cold ${cold.totalMs.toFixed(0)} ms (${cold.status})`);
    const warm: RunTiming[] = [];
    for (let i = 0; i < rounds; i++) warm.push(await once());
    const keptWorker = await page.evaluate(keptWorkerInPage, rounds + 1);
    return { url, prompt, cold, warm, keptWorker, bytesBeforeRun, bytesFirstRun };
  } finally {
    await context.close();
    await server.close();
    await rm(profile, { recursive: true, force: true });
  }
}
