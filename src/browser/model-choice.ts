/**
 * Which model the page's live figures run: the site's own, one from the site's list or any
 * hub id (files from huggingface.co), or the reader's own files. One choice per page —
 * the page has one Worker holding one model, so every figure follows the same choice and a
 * model downloads once. Resolving a choice fetches only small things (the hub's file list
 * and config.json or a GGUF's header, or reads config.json / a llama2.c or GGUF header from disk) and decides, from the
 * sizes and a memory estimate, whether the model can run here before anything big downloads.
 */
import { isLenspressError } from '../core/errors.ts';
import { openGgufHeader } from '../core/formats/gguf.ts';
import { ggufConfig, ggufProjectionBytes } from '../core/formats/gguf-model.ts';
import { parseHfConfig } from '../core/formats/hf-config.ts';
import { chooseFiles } from '../core/hub/hub-client.ts';
import { parseHubId } from '../core/hub/hub-id.ts';
import type { ModelConfig } from '../core/model/config.ts';
import type { ProjectionBytes } from '../core/model/memory.ts';
import { decideFit, describeFit, type DeviceLimits, type FitDecision, pageMemoryBytes, WASM_MEMORY_BYTES } from '../core/model/device-fit.ts';
import { type PickerModel, pickerConfig } from '../site/picker-model.ts';
import { HUB_URL, pageHubClient } from './hub-page.ts';
import { localShape, planLocal } from './local-model.ts';
import type { ModelSource } from './protocol.ts';

export type Choice = { type: 'site' } | { type: 'hub'; spec: string; entry?: PickerModel } | { type: 'local'; files: File[] };

export interface Resolved {
  choice: Choice;
  /** Absent for the site's own model. */
  source?: ModelSource;
  decision: FitDecision;
  /** What the run panel says: size, estimate, verdict. */
  line: string;
}

async function deviceLimits(): Promise<DeviceLimits> {
  const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<{ limits: { maxBufferSize: number; maxStorageBufferBindingSize: number } } | null> } }).gpu;
  const adapter = gpu ? await gpu.requestAdapter().catch(() => null) : null;
  const memoryBytes = pageMemoryBytes((navigator as unknown as { deviceMemory?: number }).deviceMemory);
  return { wasmBytes: WASM_MEMORY_BYTES, memoryBytes, ...(adapter ? { webgpu: { maxBufferSize: adapter.limits.maxBufferSize, maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize } } : {}) };
}

const refused = (choice: Choice, name: string, message: string): Resolved => ({ choice, decision: { fits: false, downloadBytes: 0, problems: [message] }, line: `Could not check ${name}: ${message}` });

async function resolveHub(choice: Extract<Choice, { type: 'hub' }>): Promise<Resolved> {
  const id = parseHubId(choice.spec);
  const client = pageHubClient();
  const listed = await client.listFiles(id);
  const files = chooseFiles(id, listed);
  const format = id.file ? 'gguf' : 'hf';
  let config: ModelConfig | undefined = choice.entry ? pickerConfig(choice.entry) : undefined;
  let projections: ProjectionBytes | undefined;
  let dtype = choice.entry?.dtype;
  if (format === 'gguf' && !config && files[0].size !== undefined) {
    // The header (metadata and tensor list, ~1 MB for a 32000-token vocabulary) by Range requests: the shape and each projection's type before the download.
    const header = await openGgufHeader(client.remoteSource(id, { ...files[0], size: files[0].size }), { fileName: files[0].path });
    config = ggufConfig(header);
    projections = ggufProjectionBytes(header, config);
    dtype = config.source_dtype;
  }
  if (format === 'hf') {
    const json = JSON.parse(new TextDecoder().decode(await client.download(id, files.find((f) => f.path === 'config.json')!))) as { torch_dtype?: string };
    config = parseHfConfig(json);
    dtype = config.source_dtype;
  }
  const weights = format === 'gguf' ? files[0] : (files.find((f) => f.path === 'model.safetensors') ?? files.filter((f) => f.path.startsWith('model-')).sort((a, b) => a.path.localeCompare(b.path))[0]);
  const decision = decideFit({ files: files.map((f) => ({ name: f.path, bytes: f.size ?? 0 })), config, projections, limits: await deviceLimits() });
  const formatLabel = `${format === 'gguf' ? 'GGUF' : 'Hugging Face safetensors'}${dtype ? ` (${dtype})` : ''} from huggingface.co`;
  return {
    choice,
    source: { type: 'hub', hubUrl: HUB_URL, spec: choice.spec, name: choice.spec, format, formatLabel, files, sha256: weights?.sha256 ?? 'unknown', bytes: decision.downloadBytes },
    decision,
    line: describeFit(choice.spec, decision, 'hub'),
  };
}

async function resolveLocal(choice: Extract<Choice, { type: 'local' }>): Promise<Resolved> {
  const plan = planLocal(choice.files);
  const shape = await localShape(plan);
  const decision = decideFit({ files: plan.files.map((f) => f.manifest), config: shape?.config, projections: shape?.projections, limits: await deviceLimits() });
  return { choice, source: { type: 'local', name: plan.name, formatLabel: plan.formatLabel, files: plan.files.map((f) => f.file) }, decision, line: describeFit(plan.name, decision, 'disk') };
}

export function choiceName(c: Choice, siteName: string): string {
  return c.type === 'site' ? siteName : c.type === 'hub' ? c.spec : ((c.files[0]?.webkitRelativePath ?? '').split('/')[0] || c.files.map((f) => f.name).join(', '));
}

/** The page's choice. Events: 'change' when a reader picks a model, 'resolved' when its line is known. */
class ModelChoiceStore extends EventTarget {
  choice: Choice = { type: 'site' };
  private pending: Promise<Resolved> | undefined;

  set(choice: Choice): void {
    this.choice = choice;
    this.pending = undefined;
    this.dispatchEvent(new Event('change'));
  }

  /** The value kept in a figure's URL state (`lp.<id>.model`): a hub id; local files cannot be shared. */
  urlValue(): string | undefined {
    return this.choice.type === 'hub' ? this.choice.spec : undefined;
  }

  /** Resolves the current choice once (the file list and config.json are fetched at most once per pick). */
  resolve(siteLine: string): Promise<Resolved> {
    const choice = this.choice;
    if (!this.pending) {
      const name = choiceName(choice, 'the site\'s model');
      const p: Promise<Resolved> = (choice.type === 'site' ? Promise.resolve<Resolved>({ choice, decision: { fits: true, downloadBytes: 0, problems: [] }, line: siteLine }) : choice.type === 'hub' ? resolveHub(choice) : resolveLocal(choice)).catch((e: unknown) => {
        // Not kept: the next Run asks again (the network may be back, the reader may have fixed the id).
        if (this.pending === p) this.pending = undefined;
        return refused(choice, name, isLenspressError(e) ? e.message : String((e as Error).message ?? e));
      });
      this.pending = p;
      void p.then((r) => {
        if (this.choice === choice) this.dispatchEvent(new CustomEvent<Resolved>('resolved', { detail: r }));
      });
    }
    return this.pending;
  }
}

export const modelChoice = new ModelChoiceStore();
