/**
 * <lp-figure data-kind="…">: upgrades a server-rendered figure. The static SVG is already
 * there (readable without JavaScript); this adds the details panel on hover/focus, Run/Stop
 * (an inference Worker started on Run and terminated on Stop — the runtime and the model load
 * only then), shareable state in the URL, and exports. Figure-specific behaviour comes from
 * the figure kind in src/core/figures/registry.ts.
 */
import type { AnyFigureKind, FigureData } from '../core/figures/figure-kind.ts';
import { FIGURES } from '../core/figures/registry.ts';
import { provenanceText } from '../core/render/provenance-text.ts';
import { download, readUrlState, standaloneSvg, svgToPng, urlWithState } from './figure-tools.ts';
import { choiceName, modelChoice } from './model-choice.ts';
import { ModelPicker } from './model-picker.ts';
import type { FigureRequest, ModelAsset } from './protocol.ts';
import { request, stopAll } from './shared-worker.ts';

interface FigureConfig {
  kind: string;
  model: ModelAsset;
  codeVersion: string;
  /** The figure's props as the article set them (the controls override some). */
  props: Record<string, unknown>;
}

class FigureElement extends HTMLElement {
  private data!: FigureData;
  private config!: FigureConfig;
  private figure!: AnyFigureKind;
  /** The id of this figure's request in flight, if any (0 while its model is being checked). */
  private running: number | undefined;
  private picker!: ModelPicker;

  connectedCallback(): void {
    this.config = JSON.parse(this.dataset.config!) as FigureConfig;
    this.figure = FIGURES[this.config.kind];
    this.data = JSON.parse(this.querySelector('script.lp-data')!.textContent!) as FigureData;
    const form = this.querySelector('form')!;
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.run();
    });
    for (const el of this.querySelectorAll<HTMLButtonElement | HTMLInputElement | HTMLSelectElement>('form [name], .lp-toolbar button')) el.disabled = false;
    this.button('stop').addEventListener('click', () => this.stop('Stopped.'));
    this.picker = new ModelPicker(this.querySelector('.lp-picker')!, this.config.model.name);
    modelChoice.addEventListener('change', this.onModelChange);
    for (const b of this.querySelectorAll<HTMLButtonElement>('.lp-toolbar button')) b.addEventListener('click', () => void this.action(b.dataset.action!));
    const frame = this.querySelector('.figure-frame')!;
    const show = (e: Event) => this.showDetails(e.target as Element);
    frame.addEventListener('mouseover', show);
    frame.addEventListener('focusin', show);
    frame.addEventListener('click', (e) => this.select(e.target as Element));
    frame.addEventListener('keydown', (e) => {
      const key = (e as KeyboardEvent).key;
      if ((key === 'Enter' || key === ' ') && this.select(e.target as Element)) e.preventDefault();
    });
    if (this.figure.onSelectCell) document.addEventListener('lp-select-cell', this.onSelectCell);
    this.restoreFromUrl();
    this.scrollToFocus();
    this.classList.add('lp-live');
  }

  disconnectedCallback(): void {
    document.removeEventListener('lp-select-cell', this.onSelectCell);
    modelChoice.removeEventListener('change', this.onModelChange);
  }

  /** Ends this figure's run (terminating the page's Worker aborts a download: nothing half-downloaded is kept). */
  private stop(message: string, reason = 'stopped by the reader'): void {
    const id = this.running;
    this.idle(message);
    if (id) stopAll(reason);
  }

  /** A reader picked another model (here or in another figure) while this figure runs: stop; the next Run uses it. */
  private readonly onModelChange = () => {
    if (this.running === undefined) return;
    const name = choiceName(modelChoice.choice, this.config.model.name);
    this.stop(`Stopped: the model is now ${name}. Press Run to use it.`, `stopped: the model is now ${name}; press Run to use it`);
  };

  /** A wide figure may name the x its frame should show first (`data-focus-x` on its root), e.g. a flow's start column. */
  private scrollToFocus(): void {
    const frame = this.querySelector<HTMLElement>('.figure-frame')!;
    const x = Number(frame.firstElementChild?.getAttribute('data-focus-x'));
    if (x > 0 && frame.scrollWidth > frame.clientWidth) frame.scrollLeft = x - frame.clientWidth / 2;
  }

  /** The controls for this figure's model (a kind may derive them from its data). */
  private get controls() {
    return this.figure.controlsFor?.(this.data) ?? this.figure.controls;
  }

  /**
   * A click or Enter inside the figure: an element with `data-set-controls='{"row":3}'` sets
   * this figure's controls; a kind's `selectCell` announces a cell to the page's other figures
   * (`lp-select-cell` on document, detail {row, position, figure}).
   */
  private select(target: Element): boolean {
    const setter = target.closest?.('[data-set-controls]');
    if (setter) {
      this.applyControls(JSON.parse(setter.getAttribute('data-set-controls')!) as Record<string, unknown>);
      return true;
    }
    const cell = this.figure.selectCell?.(this.data, target);
    if (!cell) return false;
    document.dispatchEvent(new CustomEvent('lp-select-cell', { detail: { ...cell, figure: this.id } }));
    return true;
  }

  private readonly onSelectCell = (e: Event) => {
    const detail = (e as CustomEvent<{ row: number; position: number; figure: string }>).detail;
    if (detail.figure !== this.id) this.applyControls(this.figure.onSelectCell!(detail));
  };

  /** Sets controls (the reader decides when to Run) and says which. */
  private applyControls(values: Record<string, unknown>): void {
    this.setFormState(Object.fromEntries(Object.entries(values).map(([k, v]) => [k, String(v)])));
    const said = this.controls.filter((c) => c.name in values).map((c) => `${c.label} = ${String(values[c.name])}`);
    this.dataset.state = 'selected';
    this.status(`Set ${said.join(', ')}: press Run to recompute the figure.`);
  }

  private button(name: 'run' | 'stop'): HTMLButtonElement {
    return this.querySelector(`button[name=${name}]`)!;
  }

  private get textarea(): HTMLTextAreaElement {
    return this.querySelector('textarea[name=prompt]')!;
  }

  /** Prompt and control values, as props (numbers parsed, checkboxes as booleans). */
  private formState(): Record<string, string | number | boolean> {
    const state: Record<string, string | number | boolean> = { prompt: this.textarea.value };
    for (const spec of this.controls) {
      const el = this.querySelector<HTMLInputElement | HTMLSelectElement>(`[name="${spec.name}"]`);
      if (!el) continue;
      state[spec.name] = spec.type === 'number' ? Number(el.value) : spec.type === 'checkbox' ? (el as HTMLInputElement).checked : el.value;
    }
    return state;
  }

  private setFormState(state: Record<string, string>): void {
    if (state.prompt !== undefined) this.textarea.value = state.prompt;
    for (const spec of this.controls) {
      const el = this.querySelector<HTMLInputElement | HTMLSelectElement>(`[name="${spec.name}"]`);
      if (!el || state[spec.name] === undefined) continue;
      if (spec.type === 'checkbox') (el as HTMLInputElement).checked = state[spec.name] === 'true';
      else el.value = state[spec.name];
    }
  }

  /** A shared link sets the prompt and options; the reader decides whether to run (it may download a model). */
  private restoreFromUrl(): void {
    const { model, ...state } = readUrlState(this.id);
    if (model) {
      ModelPicker.restore(model, this.picker.listed);
      this.dataset.state = 'restored';
      this.status(`This link chooses the model ${model} (from huggingface.co): press Run to check its size and compute the figure on your device.`);
    }
    if (Object.keys(state).length === 0) return;
    const before = JSON.stringify(this.formState());
    this.setFormState(state);
    if (JSON.stringify(this.formState()) === before) return;
    this.dataset.state = 'restored';
    this.status('This link sets the prompt and options above: press Run to compute the figure on your device.');
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

  private showDetails(target: Element): void {
    const d = this.figure.details?.(this.data, target);
    if (!d) return;
    const head = document.createElement('p');
    head.textContent = d.title;
    const list = document.createElement('ol');
    for (const item of d.items) {
      const li = document.createElement('li');
      li.textContent = item;
      list.append(li);
    }
    this.querySelector('.lp-details')!.replaceChildren(head, list);
  }

  /** Back to idle after a run ends (result, error or Stop). */
  private idle(message: string, state?: 'error'): void {
    this.running = undefined;
    this.removeAttribute('aria-busy');
    if (state) this.dataset.state = state;
    this.button('run').disabled = false;
    this.button('stop').hidden = true;
    this.status(message);
  }

  private async run(): Promise<void> {
    this.button('run').disabled = true;
    this.button('stop').hidden = false;
    this.setAttribute('aria-busy', 'true');
    this.running = 0;
    const choice = modelChoice.choice;
    if (choice.type !== 'site') this.status(`Checking ${choiceName(choice, this.config.model.name)}…`);
    const resolved = await modelChoice.resolve(this.picker.siteLine);
    if (this.running !== 0 || modelChoice.choice !== choice) return; // stopped, or another model picked meanwhile
    if (!resolved.decision.fits) return this.idle(resolved.line, 'error');
    const req: Omit<FigureRequest, 'id'> = {
      type: 'figure',
      kind: this.config.kind,
      props: { ...this.config.props, ...this.formState() },
      model: this.config.model,
      ...(resolved.source ? { source: resolved.source } : {}),
      codeVersion: this.config.codeVersion,
      backend: (this.dataset.backend as FigureRequest['backend']) ?? 'auto',
    };
    const id = request(req, (m) => {
      if (this.running !== id) return; // a superseded run
      if (m.type === 'progress') this.status(m.message, m.loaded !== undefined ? { loaded: m.loaded, total: m.total ?? 0 } : undefined);
      else if (m.type === 'error') this.idle(`Could not run: ${m.message}`, 'error');
      else {
        this.update(m.data);
        this.idle(`Updated: computed in your browser on ${m.data.provenance.backend}.`);
      }
    });
    this.running = id;
  }

  private update(data: FigureData): void {
    this.data = data;
    this.querySelector('script.lp-data')!.textContent = JSON.stringify(data);
    this.querySelector('.figure-frame')!.replaceChildren(this.figure.render(data, { document }));
    this.scrollToFocus();
    this.querySelector('.lp-provenance')!.textContent = provenanceText(data.provenance);
    this.querySelector('.lp-details')!.textContent = 'Hover or focus a part of the figure for details.';
    this.dataset.state = 'live';
    history.replaceState(null, '', urlWithState(this.id, this.urlState()));
  }

  /** The controls, and the model when it is a hub model (local files cannot travel in a link). */
  private urlState(): Record<string, string> {
    const model = modelChoice.urlValue();
    return { ...Object.fromEntries(Object.entries(this.formState()).map(([k, v]) => [k, String(v)])), ...(model ? { model } : {}) };
  }

  private fileBase(): string {
    return `${this.id}-${this.data.provenance.model.name.replace(/[^\w.-]+/g, '--')}`;
  }

  private async action(name: string): Promise<void> {
    const svg = this.querySelector<SVGSVGElement>('.figure-frame svg')!;
    try {
      if (name === 'copy-link') {
        const url = urlWithState(this.id, this.urlState());
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
        download(`${this.fileBase()}.csv`, new Blob([this.figure.csv(this.data)], { type: 'text/csv' }));
      }
    } catch (e) {
      this.status(`Could not ${name.replace('-', ' ')}: ${(e as Error).message}`);
    }
  }
}

if (!customElements.get('lp-figure')) customElements.define('lp-figure', FigureElement);
