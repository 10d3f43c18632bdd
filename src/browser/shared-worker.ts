/**
 * The page's one inference Worker, shared by all its figures so the runtime and the model
 * load once. Each request gets an id; responses go back to the figure that asked. Stopping
 * terminates the Worker (the only way to cancel a WebAssembly computation), which ends every
 * run in flight: their figures are told so, and the next Run starts a fresh Worker.
 */
import type { FigureRequest, WorkerResponse } from './protocol.ts';

type Handler = (m: WorkerResponse) => void;

let worker: Worker | undefined;
let nextId = 1;
const handlers = new Map<number, Handler>();

function failAll(message: string): void {
  for (const [id, h] of handlers) h({ id, type: 'error', message });
  handlers.clear();
}

function ensureWorker(): Worker {
  if (worker) return worker;
  const w = new Worker(new URL('./figure-worker.ts', import.meta.url), { type: 'module' });
  w.onmessage = (ev: MessageEvent<WorkerResponse>) => {
    const m = ev.data;
    handlers.get(m.id)?.(m);
    if (m.type !== 'progress') handlers.delete(m.id);
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
  handlers.set(id, onMessage);
  ensureWorker().postMessage({ ...req, id } satisfies FigureRequest);
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
