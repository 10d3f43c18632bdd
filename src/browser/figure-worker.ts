/// <reference lib="webworker" />
/**
 * The inference Worker: loads ONNX Runtime Web and the model only when the reader presses
 * Run, then computes figures with the same core code the build used in Node.
 * The page cancels a run by terminating this Worker.
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

const post = (m: WorkerResponse) => (self as unknown as DedicatedWorkerGlobalScope).postMessage(m);

let ortPromise: Promise<typeof OrtWeb> | undefined;
let loaded: { key: string; opened: OpenedModel; hooked: HookedModel } | undefined;

async function backendFor(choice: FigureRequest['backend']): Promise<Backend> {
  post({ type: 'progress', stage: 'runtime', message: 'Loading ONNX Runtime Web…' });
  ortPromise ??= import('onnxruntime-web');
  const ort = await ortPromise;
  const hasWebGpu = 'gpu' in navigator && (await (navigator as unknown as { gpu: { requestAdapter(): Promise<unknown> } }).gpu.requestAdapter().catch(() => null)) !== null;
  if (choice === 'webgpu' && !hasWebGpu) throw new Error('this browser offers no WebGPU adapter: choose WebAssembly instead');
  const useGpu = choice === 'webgpu' || (choice === 'auto' && hasWebGpu);
  return { ort: ort as unknown as OrtModule, executionProviders: useGpu ? ['webgpu'] : ['wasm'], label: useGpu ? 'WebGPU (onnxruntime-web)' : 'WebAssembly (onnxruntime-web)' };
}

async function loadModel(asset: ModelAsset, backend: Backend): Promise<{ opened: OpenedModel; hooked: HookedModel }> {
  const key = `${asset.sha256}:${backend.executionProviders.join()}`;
  if (loaded?.key === key) return loaded;
  const opened = await loadAsset(asset, (l, t, file) => post({ type: 'progress', stage: 'download', loaded: l, total: t, message: `Downloading ${asset.name} (${file})…` }));
  await loaded?.hooked.release();
  loaded = { key, opened, hooked: new HookedModel(opened.model, backend) };
  return loaded;
}

self.onmessage = async (ev: MessageEvent<FigureRequest>) => {
  const req = ev.data;
  try {
    const figure = FIGURES[req.kind];
    if (!figure) throw new Error(`unknown figure kind "${req.kind}" (known: ${Object.keys(FIGURES).join(', ')})`);
    const backend = await backendFor(req.backend);
    const { opened, hooked } = await loadModel(req.model, backend);
    post({ type: 'progress', stage: 'compute', message: `Running ${req.model.name} on ${backend.label}…` });
    const provenance = { name: req.model.name, sha256: req.model.sha256, parameters: parameterCount(opened.model.config), format: req.model.formatLabel };
    const data = await figure.compute({ hooked, tokenizer: opened.tokenizer, model: provenance, codeVersion: req.codeVersion }, req.props as { prompt: string });
    post({ type: 'result', data });
  } catch (e) {
    const message = isLenspressError(e) ? e.message : `${(e as Error).message ?? e}`;
    post({ type: 'error', message });
  }
};
