/**
 * <lp-logit-lens>: upgrades the server-rendered figure. The static SVG is already there
 * (readable without JavaScript); this adds the top-k panel on hover/focus, and Run/Stop,
 * which start and terminate an inference Worker. The runtime and the model load only on Run.
 */
import type { LogitLensFigureData } from '../core/figures/logit-lens-figure.ts';
import type { NormMode } from '../core/onnx/decode-graph.ts';
import { renderLogitLens } from '../core/render/logit-lens-svg.ts';
import { displayPiece } from '../core/tokenizer/tokenizer.ts';
import { pct } from '../core/render/svg.ts';
import { provenanceText } from '../core/render/provenance-text.ts';
import { logitLensCsv } from '../core/figures/logit-lens-csv.ts';
import { download, readUrlState, standaloneSvg, svgToPng, urlWithState } from './figure-tools.ts';
import type { ModelAsset, WorkerRequest, WorkerResponse } from './protocol.ts';

interface FigureConfig {
  model: ModelAsset;
  codeVersion: string;
  norm: NormMode;
  k: number;
}

class LogitLensElement extends HTMLElement {
  private data!: LogitLensFigureData;
  private config!: FigureConfig;
  private worker: Worker | undefined;

  connectedCallback(): void {
    this.data = JSON.parse(this.querySelector('script.lp-data')!.textContent!) as LogitLensFigureData;
    this.config = JSON.parse(this.dataset.config!) as FigureConfig;
    const form = this.querySelector('form')!;
    form.addEventListener('submit', (e) => (e.preventDefault(), this.run()));
    this.button('run').disabled = false;
    this.button('stop').addEventListener('click', () => this.stop('Stopped.'));
    const frame = this.querySelector('.figure-frame')!;
    const show = (e: Event) => {
      const cell = (e.target as Element).closest?.('g.cell');
      if (cell) this.showDetails(Number(cell.getAttribute('data-row')), Number(cell.getAttribute('data-pos')));
    };
    frame.addEventListener('mouseover', show);
    frame.addEventListener('focusin', show);
    for (const b of this.querySelectorAll<HTMLButtonElement>('.lp-toolbar button')) {
      b.disabled = false;
      b.addEventListener('click', () => void this.action(b.dataset.action!));
    }
    this.restoreFromUrl();
    this.classList.add('lp-live');
  }

  private get textarea(): HTMLTextAreaElement {
    return this.querySelector('textarea[name=prompt]')!;
  }

  /** A shared link sets the prompt; the reader decides whether to run (it may download a model). */
  private restoreFromUrl(): void {
    const state = readUrlState(this.id);
    if (state.prompt === undefined || state.prompt === this.data.prompt) return;
    this.textarea.value = state.prompt;
    this.dataset.state = 'restored';
    this.status('This link sets the prompt above: press Run to compute the figure on your device.');
  }

  private fileBase(): string {
    return `${this.id}-${this.data.provenance.model.name}`;
  }

  private async action(name: string): Promise<void> {
    const svg = this.querySelector<SVGSVGElement>('.figure-frame svg')!;
    try {
      if (name === 'copy-link') {
        const url = urlWithState(this.id, { prompt: this.textarea.value });
        history.replaceState(null, '', url);
        await navigator.clipboard?.writeText(url.href).catch(() => undefined);
        this.status(`Link to this figure: ${url.href}`);
      } else if (name === 'export-svg') {
        download(`${this.fileBase()}.svg`, new Blob([standaloneSvg(svg)], { type: 'image/svg+xml' }));
      } else if (name === 'export-png') {
        download(`${this.fileBase()}.png`, await svgToPng(standaloneSvg(svg), svg.width.baseVal.value, svg.height.baseVal.value));
      } else if (name === 'export-json') {
        download(`${this.fileBase()}.json`, new Blob([JSON.stringify(this.data, null, 2)], { type: 'application/json' }));
      } else if (name === 'export-csv') {
        download(`${this.fileBase()}.csv`, new Blob([logitLensCsv(this.data)], { type: 'text/csv' }));
      }
    } catch (e) {
      this.status(`Could not ${name.replace('-', ' ')}: ${(e as Error).message}`);
    }
  }

  disconnectedCallback(): void {
    this.worker?.terminate();
  }

  private button(name: 'run' | 'stop'): HTMLButtonElement {
    return this.querySelector(`button[name=${name}]`)!;
  }

  private status(message: string, progress?: { loaded: number; total: number }): void {
    this.querySelector('.lp-status')!.textContent = message;
    const bar = this.querySelector('progress')!;
    bar.hidden = progress === undefined;
    if (progress) {
      bar.max = progress.total || 1;
      bar.value = progress.loaded;
    }
  }

  private showDetails(row: number, pos: number): void {
    const { grid } = this.data;
    const cell = grid.cells[row]?.[pos];
    if (!cell) return;
    const panel = this.querySelector('.lp-details')!;
    const head = document.createElement('p');
    head.textContent = `${grid.rowLabels[row]} · position ${pos} (${displayPiece(grid.pieces[grid.inputIds[pos]])}) · entropy ${cell.entropy.toFixed(2)} nats`;
    const list = document.createElement('ol');
    cell.ids.forEach((id, i) => {
      const li = document.createElement('li');
      li.textContent = `${displayPiece(grid.pieces[id])} — ${pct(cell.probs[i])}`;
      list.append(li);
    });
    panel.replaceChildren(head, list);
  }

  private stop(message: string, state?: 'error'): void {
    this.worker?.terminate();
    this.worker = undefined;
    this.removeAttribute('aria-busy');
    if (state) this.dataset.state = state;
    this.button('run').disabled = false;
    this.button('stop').hidden = true;
    this.status(message);
  }

  private run(): void {
    this.worker?.terminate();
    const prompt = (this.querySelector('textarea[name=prompt]') as HTMLTextAreaElement).value;
    const worker = new Worker(new URL('./lens-worker.ts', import.meta.url), { type: 'module' });
    this.worker = worker;
    this.button('run').disabled = true;
    this.button('stop').hidden = false;
    this.setAttribute('aria-busy', 'true');
    worker.onmessage = (ev: MessageEvent<WorkerResponse>) => {
      const m = ev.data;
      if (m.type === 'progress') this.status(m.message, m.loaded !== undefined ? { loaded: m.loaded, total: m.total ?? 0 } : undefined);
      else if (m.type === 'error') this.stop(`Could not run: ${m.message}`, 'error');
      else {
        this.update(m.data);
        this.stop(`Updated: computed in your browser on ${m.data.provenance.backend}.`);
      }
    };
    worker.onerror = (e) => this.stop(`Could not run: ${e.message || 'the worker failed to start'}`, 'error');
    const req: WorkerRequest = { type: 'lens', prompt, norm: this.config.norm, k: this.config.k, model: this.config.model, codeVersion: this.config.codeVersion, backend: (this.dataset.backend as WorkerRequest['backend']) ?? 'auto' };
    worker.postMessage(req);
  }

  private update(data: LogitLensFigureData): void {
    this.data = data;
    this.querySelector('script.lp-data')!.textContent = JSON.stringify(data);
    this.querySelector('.figure-frame')!.replaceChildren(renderLogitLens(data, { document }));
    this.querySelector('.lp-provenance')!.textContent = provenanceText(data.provenance);
    this.querySelector('.lp-details')!.textContent = 'Hover or focus a cell to see its top tokens.';
    this.dataset.state = 'live';
    history.replaceState(null, '', urlWithState(this.id, { prompt: data.prompt }));
  }
}

if (!customElements.get('lp-logit-lens')) customElements.define('lp-logit-lens', LogitLensElement);
