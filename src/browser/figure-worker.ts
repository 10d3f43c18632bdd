/// <reference lib="webworker" />
/**
 * The inference Worker, one per page, shared by its figures: it loads ONNX Runtime Web and
 * the model only when a reader presses Run, keeps both for later runs (a warm re-run skips
 * the download and the session creation), and computes figures with the same core code the
 * build used in Node. Requests run one at a time, in order. The page cancels by terminating
 * the Worker. When WebGPU fails mid-run (a lost device, an unsupported op), the run is
 * repeated on WebAssembly and the figure's provenance says so. Q8_0 projections, which ONNX
 * Runtime Web's WebGPU MatMulNBits refuses, are dequantised for WebGPU, or run on WebAssembly
 * from the start when too large (core/engine/webgpu-weights.ts): no attempt known to fail.
 */
import type * as OrtWeb from 'onnxruntime-web';
import { HookedModel } from '../core/engine/hooked-model.ts';
import type { Backend, OrtModule } from '../core/engine/runtime.ts';
import { isAllocationFailure, type MemoryBackend, outOfMemoryError } from '../core/engine/out-of-memory.ts';
import { isLenspressError, LenspressError } from '../core/errors.ts';
import { DEQUANTIZED_NOTE, dequantizeQ8, hasQ8Projections, planWebGpuWeights } from '../core/engine/webgpu-weights.ts';
import { FIGURES } from '../core/figures/registry.ts';
import { parameterCount } from '../core/model/config.ts';
import { gradientFit, pageMemoryBytes, WASM_MEMORY_BYTES } from '../core/model/device-fit.ts';
import type { OpenedModel } from '../core/model/open.ts';
import { loadAsset } from './load-asset.ts';
import { loadSource } from './load-model.ts';
import { DeviceLostError, unlessDeviceLost } from './gpu-device-lost.ts';
import type { FigureRequest, ModelAsset, ModelSource, WorkerResponse } from './protocol.ts';

type Message = WorkerResponse extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;

let ortPromise: Promise<typeof OrtWeb> | undefined;
/** The model held now: `key` names its source (site asset, hub files, local files); `sha256` its weights. */
let opened: { key: string; sha256: string; model: OpenedModel } | undefined;
const hooked = new Map<string, HookedModel>();
let queue: Promise<void> = Promise.resolve();

async function backendFor(choice: FigureRequest['backend'], post: (m: Message) => void): Promise<Backend> {
  if (!ortPromise) post({ type: 'progress', stage: 'runtime', message: 'Loading ONNX Runtime Web…' });
  ortPromise ??= import('onnxruntime-web');
  const ort = await ortPromise;
  const hasWebGpu = choice !== 'wasm' && 'gpu' in navigator && (await (navigator as unknown as { gpu: { requestAdapter(): Promise<unknown> } }).gpu.requestAdapter().catch(() => null)) !== null;
  if (choice === 'webgpu' && !hasWebGpu) throw new Error('this browser offers no WebGPU adapter: choose WebAssembly instead');
  return wasmOr(ort, hasWebGpu);
}

function wasmOr(ort: typeof OrtWeb, gpu: boolean): Backend {
  return { ort: ort as unknown as OrtModule, executionProviders: gpu ? ['webgpu'] : ['wasm'], label: gpu ? 'WebGPU (onnxruntime-web)' : 'WebAssembly (onnxruntime-web)' };
}

/** Which model a request names: the same key means the model in memory can serve it. */
function sourceKey(asset: ModelAsset, source?: ModelSource): string {
  if (!source) return `site:${asset.sha256}`;
  if (source.type === 'hub') return `hub:${source.spec}:${source.sha256}`;
  return `local:${source.files.map((f) => `${f.webkitRelativePath || f.name}/${f.size}/${f.lastModified}`).join('|')}`;
}

type Held = { model: OpenedModel; hooked: HookedModel; sha256: string };

/** The model on `backend`, or, on WebGPU for Q8_0 weights too large to dequantise, why WebAssembly must run it (webgpu-weights.ts). */
async function modelFor(asset: ModelAsset, source: ModelSource | undefined, backend: Backend, post: (m: Message) => void): Promise<Held | { wasmInstead: string }> {
  const key = sourceKey(asset, source);
  if (opened?.key !== key) {
    for (const h of hooked.values()) await h.release();
    hooked.clear();
    opened = undefined; // a failed download must not leave the previous model half-replaced
    if (source) {
      const loaded = await loadSource(source, (p) => post({ type: 'progress', stage: 'download', loaded: p.loaded, total: p.total, message: p.message }));
      opened = { key, sha256: loaded.sha256, model: loaded.model };
    } else {
      const model = await loadAsset(asset, (l, t, file) => post({ type: 'progress', stage: 'download', loaded: l, total: t, message: `Downloading ${asset.name} (${file})…` }));
      opened = { key, sha256: asset.sha256, model };
    }
  }
  const ep = backend.executionProviders.join();
  let h = hooked.get(ep);
  if (!h) {
    let m = opened.model.model;
    const plan = ep === 'webgpu' ? planWebGpuWeights(m.config, hasQ8Projections(m)) : undefined;
    if (plan?.run === 'wasm') return { wasmInstead: plan.reason };
    if (plan?.dequantize) [m, backend] = [dequantizeQ8(m), { ...backend, label: `${backend.label}, ${DEQUANTIZED_NOTE}` }];
    hooked.set(ep, (h = new HookedModel(m, backend)));
  }
  return { model: opened.model, hooked: h, sha256: opened.sha256 };
}

/** Out of memory: which model, how big (its shape when it was read), on what, and what to do. */
function outOfMemory(req: FigureRequest, ran: MemoryBackend, e: unknown): LenspressError {
  const current = opened?.key === sourceKey(req.model, req.source) ? opened.model : undefined;
  let tokens: number | undefined;
  try {
    tokens = current?.tokenizer.encode(String(req.props.prompt ?? '')).length;
  } catch {
    // The estimate then assumes a typical prompt.
  }
  const src = req.source;
  const fileBytes = !src ? req.model.bytes : src.type === 'hub' ? src.bytes : src.files.reduce((n, f) => n + f.size, 0);
  return outOfMemoryError({ model: src?.name ?? req.model.name, backend: ran, config: current?.model.config, tokens, fileBytes, detail: String((e as Error)?.message ?? e) });
}

async function handle(req: FigureRequest): Promise<void> {
  const post = (m: Message) => (self as unknown as DedicatedWorkerGlobalScope).postMessage({ ...m, id: req.id } as WorkerResponse);
  let ran: MemoryBackend = 'wasm';
  let upFront: string | undefined;
  try {
    const figure = FIGURES[req.kind];
    if (!figure) throw new Error(`unknown figure kind "${req.kind}" (known: ${Object.keys(FIGURES).join(', ')})`);
    const compute = async (backend: Backend) => {
      let held = await modelFor(req.model, req.source, backend, post);
      if ('wasmInstead' in held) {
        if (req.backend === 'webgpu') throw new LenspressError('unsupported-backend', `${held.wasmInstead}: choose WebAssembly`);
        [upFront, backend] = [held.wasmInstead, wasmOr(await ortPromise!, false)];
        held = (await modelFor(req.model, req.source, backend, post)) as Held;
      }
      ran = backend.executionProviders[0] === 'webgpu' ? 'webgpu' : 'wasm';
      const { model, hooked: h, sha256 } = held;
      const name = req.source?.name ?? req.model.name;
      if (req.kind === 'gradient') {
        const why = gradientFit(model.model.config, { wasmBytes: WASM_MEMORY_BYTES, memoryBytes: pageMemoryBytes((navigator as unknown as { deviceMemory?: number }).deviceMemory) }, ran);
        if (why) throw new LenspressError('model-too-large', `${name}: ${why}.`);
      }
      post({ type: 'progress', stage: 'compute', message: `Running ${name} on ${backend.label}…` });
      const provenance = { name, sha256, parameters: parameterCount(model.model.config), format: req.source?.formatLabel ?? req.model.formatLabel };
      return figure.compute({ hooked: h, tokenizer: model.tokenizer, model: provenance, codeVersion: req.codeVersion }, req.props as { prompt: string });
    };
    const backend = await backendFor(req.backend, post);
    const gpu = backend.executionProviders[0] === 'webgpu';
    let data;
    try {
      data = await (gpu ? unlessDeviceLost((await ortPromise!).env, compute(backend)) : compute(backend));
    } catch (e) {
      // A lost device leaves this Worker's runtime suspended mid-call: the page replaces the Worker
      // and, unless the reader asked for WebGPU, re-sends the request on WebAssembly (shared-worker.ts).
      if (e instanceof DeviceLostError) return post(req.backend === 'webgpu' ? { type: 'error', message: e.message, broken: true } : { type: 'webgpu-lost', reason: e.message });
      // Bad input is the reader's to fix; anything else on WebGPU is retried on WebAssembly.
      if (isLenspressError(e) || !gpu || req.backend === 'webgpu') throw e;
      const reason = String((e as Error).message ?? e).slice(0, 200);
      post({ type: 'progress', stage: 'compute', message: `WebGPU failed (${reason}); running on WebAssembly instead…` });
      hooked.delete('webgpu');
      data = await compute(wasmOr(await ortPromise!, false));
      data.provenance.backend = `WebAssembly (onnxruntime-web), after WebGPU failed: ${reason}`;
    }
    if (upFront) data.provenance.backend = `WebAssembly (onnxruntime-web), chosen up front: ${upFront}`;
    if (req.webgpuFailed) data.provenance.backend = `WebAssembly (onnxruntime-web), after WebGPU failed: ${req.webgpuFailed}`;
    post({ type: 'result', data });
  } catch (e) {
    // Memory ran out: say so plainly. The page replaces this Worker: its WebAssembly memory never
    // shrinks once grown, and an Emscripten abort would leave its runtime unusable.
    if (isAllocationFailure(e)) return post({ type: 'error', message: outOfMemory(req, ran, e).message, broken: true });
    post({ type: 'error', message: isLenspressError(e) ? e.message : `${(e as Error).message ?? e}` });
  }
}

self.onmessage = (ev: MessageEvent<FigureRequest>) => {
  queue = queue.then(() => handle(ev.data));
};
