/// <reference lib="webworker" />
/**
 * The inference Worker, one per page, shared by its figures: it loads ONNX Runtime Web and
 * the model only when a reader presses Run, keeps both for later runs (a warm re-run skips
 * the download and the session creation), and computes figures with the same core code the
 * build used in Node. Requests run one at a time, in order. The page cancels by terminating
 * the Worker. When WebGPU fails mid-run (a lost device, an unsupported op), the run is
 * repeated on WebAssembly and the figure's provenance says so.
 */
import type * as OrtWeb from 'onnxruntime-web';
import { HookedModel } from '../core/engine/hooked-model.ts';
import type { Backend, OrtModule } from '../core/engine/runtime.ts';
import { isLenspressError } from '../core/errors.ts';
import { FIGURES } from '../core/figures/registry.ts';
import { parameterCount } from '../core/model/config.ts';
import type { OpenedModel } from '../core/model/open.ts';
import { loadAsset } from './load-asset.ts';
import type { FigureRequest, ModelAsset, WorkerResponse } from './protocol.ts';

type Message = WorkerResponse extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;

let ortPromise: Promise<typeof OrtWeb> | undefined;
let opened: { sha256: string; model: OpenedModel } | undefined;
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

async function modelFor(asset: ModelAsset, backend: Backend, post: (m: Message) => void): Promise<{ model: OpenedModel; hooked: HookedModel }> {
  if (opened?.sha256 !== asset.sha256) {
    for (const h of hooked.values()) await h.release();
    hooked.clear();
    opened = undefined; // a failed download must not leave the previous model half-replaced
    const model = await loadAsset(asset, (l, t, file) => post({ type: 'progress', stage: 'download', loaded: l, total: t, message: `Downloading ${asset.name} (${file})…` }));
    opened = { sha256: asset.sha256, model };
  }
  const key = backend.executionProviders.join();
  let h = hooked.get(key);
  if (!h) hooked.set(key, (h = new HookedModel(opened.model.model, backend)));
  return { model: opened.model, hooked: h };
}

async function handle(req: FigureRequest): Promise<void> {
  const post = (m: Message) => (self as unknown as DedicatedWorkerGlobalScope).postMessage({ ...m, id: req.id } as WorkerResponse);
  try {
    const figure = FIGURES[req.kind];
    if (!figure) throw new Error(`unknown figure kind "${req.kind}" (known: ${Object.keys(FIGURES).join(', ')})`);
    const compute = async (backend: Backend) => {
      const { model, hooked: h } = await modelFor(req.model, backend, post);
      post({ type: 'progress', stage: 'compute', message: `Running ${req.model.name} on ${backend.label}…` });
      const provenance = { name: req.model.name, sha256: req.model.sha256, parameters: parameterCount(model.model.config), format: req.model.formatLabel };
      return figure.compute({ hooked: h, tokenizer: model.tokenizer, model: provenance, codeVersion: req.codeVersion }, req.props as { prompt: string });
    };
    const backend = await backendFor(req.backend, post);
    let data;
    try {
      data = await compute(backend);
    } catch (e) {
      // Bad input is the reader's to fix; anything else on WebGPU is retried on WebAssembly.
      if (isLenspressError(e) || backend.executionProviders[0] !== 'webgpu' || req.backend === 'webgpu') throw e;
      const reason = String((e as Error).message ?? e).slice(0, 200);
      post({ type: 'progress', stage: 'compute', message: `WebGPU failed (${reason}); running on WebAssembly instead…` });
      hooked.delete('webgpu');
      data = await compute(wasmOr(await ortPromise!, false));
      data.provenance.backend = `WebAssembly (onnxruntime-web), after WebGPU failed: ${reason}`;
    }
    post({ type: 'result', data });
  } catch (e) {
    post({ type: 'error', message: isLenspressError(e) ? e.message : `${(e as Error).message ?? e}` });
  }
}

self.onmessage = (ev: MessageEvent<FigureRequest>) => {
  queue = queue.then(() => handle(ev.data));
};
