/**
 * Where the time goes: ONNX Runtime's own profiler (SessionOptions.enableProfiling, a
 * Chrome-trace JSON; per-node events named "<node>_kernel_time" with args.op_name and dur in
 * µs, one "model_run" event per run) summed per op type, next to the wall time of
 * session.run seen from JavaScript. wall − model_run is what happens outside ORT's graph
 * execution: copying inputs in and outputs out of the binding and making JS typed arrays.
 * The first run (allocator warm-up) is left out.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { InferenceSession } from 'onnxruntime-common';
import type { Backend } from '../core/engine/runtime.ts';
import { sessionOptions } from '../core/engine/runtime.ts';

export interface TraceEvent {
  cat?: string;
  name?: string;
  ts?: number;
  dur?: number;
  args?: { op_name?: string };
}

export interface OpTime {
  op: string;
  /** ms per run */
  ms: number;
  /** nodes of this type executed per run */
  nodes: number;
}

export interface ProfileSummary {
  label: string;
  runs: number;
  /** ms per run, means (so the parts add up): session.run from JS, ORT's model_run, and the sum of kernels. */
  wallMs: number;
  modelRunMs: number;
  kernelMs: number;
  ops: OpTime[];
}

/** Per-run averages from a trace, skipping events before the `skip`-th model_run starts. */
export function summarizeTrace(events: readonly TraceEvent[], skip = 1): Omit<ProfileSummary, 'label' | 'wallMs'> {
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').sort((a, b) => (a.ts ?? 0) - (b.ts ?? 0));
  const kept = runs.slice(skip);
  if (kept.length === 0) throw new Error(`profile has ${runs.length} runs, need more than ${skip}`);
  const from = kept[0].ts ?? 0;
  const perOp = new Map<string, { us: number; n: number }>();
  let kernelUs = 0;
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name?.endsWith('_kernel_time') || (e.ts ?? 0) < from) continue;
    const op = e.args?.op_name ?? '?';
    const o = perOp.get(op) ?? { us: 0, n: 0 };
    o.us += e.dur ?? 0;
    o.n++;
    perOp.set(op, o);
    kernelUs += e.dur ?? 0;
  }
  const n = kept.length;
  return {
    runs: n,
    modelRunMs: kept.reduce((t, e) => t + (e.dur ?? 0), 0) / 1000 / n,
    kernelMs: kernelUs / 1000 / n,
    ops: [...perOp].map(([op, o]) => ({ op, ms: o.us / 1000 / n, nodes: o.n / n })).sort((a, b) => b.ms - a.ms),
  };
}

/** Profiles `runs` runs (after one warm-up) of a graph on `backend` with the same session options the engine uses. */
export async function profileGraph(label: string, backend: Backend, bytes: Uint8Array, feeds: InferenceSession.FeedsType, runs: number, fetches?: InferenceSession.FetchesType): Promise<ProfileSummary> {
  const dir = await mkdtemp(path.join(tmpdir(), 'lenspress-profile-'));
  try {
    const session = await backend.ort.InferenceSession.create(bytes, { ...sessionOptions(backend), enableProfiling: true, profileFilePrefix: path.join(dir, 'ort') });
    const run = () => (fetches ? session.run(feeds, fetches) : session.run(feeds));
    await run();
    const t0 = performance.now();
    for (let i = 0; i < runs; i++) await run();
    const wallMs = (performance.now() - t0) / runs;
    session.endProfiling();
    await session.release();
    const file = (await readdir(dir)).find((f) => f.endsWith('.json'));
    if (!file) throw new Error(`ONNX Runtime wrote no profile into ${dir}`);
    const events = JSON.parse(await readFile(path.join(dir, file), 'utf8')) as TraceEvent[];
    return { label, wallMs, ...summarizeTrace(events) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function formatProfile(p: ProfileSummary, top = 8): string {
  const pct = (ms: number) => `${((100 * ms) / p.kernelMs).toFixed(0)} %`;
  const lines = [
    `${p.label}: session.run ${p.wallMs.toFixed(1)} ms (JS) · model_run ${p.modelRunMs.toFixed(1)} ms (ORT) · kernels ${p.kernelMs.toFixed(1)} ms · outside ORT ${(p.wallMs - p.modelRunMs).toFixed(1)} ms — mean of ${p.runs} runs`,
    ...p.ops.slice(0, top).map((o) => `    ${o.op.padEnd(18)} ${o.ms.toFixed(2).padStart(9)} ms  ${pct(o.ms).padStart(5)}  (${o.nodes} nodes)`),
  ];
  return lines.join('\n');
}
