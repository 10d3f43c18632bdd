/**
 * The page's one inference Worker, shared by all its figures so the runtime and the model
 * load once. Each request gets an id; responses go back to the figure that asked. Stopping
 * terminates the Worker (the only way to cancel a WebAssembly computation), which ends every
 * run in flight: their figures are told so, and the next Run starts a fresh Worker. A Worker
 * whose runtime may be unusable (its WebGPU device was lost, or memory ran out) is replaced
 * too, and the requests it still held are sent to the new one — the one whose device was
 * lost on WebAssembly, its figure told why (tests/e2e/robustness.spec.ts).
 */
import type { FigureRequest, WorkerResponse } from './protocol.ts';

/** What a figure hears: 'webgpu-lost' is handled here. */
export type FigureMessage = Exclude<WorkerResponse, { type: 'webgpu-lost' }>;
type Handler = (m: FigureMessage) => void;

let worker: Worker | undefined;
let nextId = 1;
/** Requests sent and not yet answered, in the order sent. */
const pending = new Map<number, { req: FigureRequest; handler: Handler }>();

function failAll(message: string): void {
  for (const [id, p] of pending) p.handler({ id, type: 'error', message });
  pending.clear();
}

/** Starts a fresh Worker and sends it every request still pending (they died with the old one). */
function replaceWorker(): void {
  terminateWorker();
  const w = ensureWorker();
  for (const { req } of pending.values()) w.postMessage(req);
}

function ensureWorker(): Worker {
  if (worker) return worker;
  const w = new Worker(new URL('./figure-worker.ts', import.meta.url), { type: 'module' });
  w.onmessage = (ev: MessageEvent<WorkerResponse>) => {
    const m = ev.data;
    const p = pending.get(m.id);
    if (m.type === 'webgpu-lost') {
      if (p) {
        p.handler({ id: m.id, type: 'progress', stage: 'compute', message: `WebGPU failed (${m.reason}); running on WebAssembly instead…` });
        p.req = { ...p.req, backend: 'wasm', webgpuFailed: m.reason };
      }
      return replaceWorker();
    }
    p?.handler(m);
    if (m.type !== 'progress') pending.delete(m.id);
    if (m.type === 'error' && m.broken) replaceWorker();
  };
  w.onerror = (e) => {
    terminateWorker();
    failAll(e.message || 'the worker failed to start');
  };
  return (worker = w);
}

/** Sends a request; `onMessage` receives its progress and then its result or error. Returns the request id. */
export function request(req: Omit<FigureRequest, 'id'>, onMessage: Handler): number {
  const id = nextId++;
  const full: FigureRequest = { ...req, id };
  pending.set(id, { req: full, handler: onMessage });
  ensureWorker().postMessage(full);
  return id;
}

/** Cancels every run in flight (see the module comment). */
export function stopAll(reason: string): void {
  terminateWorker();
  failAll(reason);
}

function terminateWorker(): void {
  worker?.terminate();
  worker = undefined;
}
