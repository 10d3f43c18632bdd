/**
 * Wires one figure's model picker (components/ModelPicker.astro) to the page's model choice
 * (./model-choice.ts): picking in any figure sets the choice for every figure on the page,
 * and every picker shows it. A hub model is checked (file list, config.json: small) as soon as
 * it is picked, so its size and memory estimate show before any download; a local file or
 * folder is checked from its small files.
 */
import type { PickerModel } from '../site/picker-model.ts';
import { type Choice, choiceName, modelChoice, type Resolved } from './model-choice.ts';

export class ModelPicker {
  private readonly select: HTMLSelectElement;
  private readonly hubInput: HTMLInputElement;
  private readonly line: HTMLElement;
  private readonly models: PickerModel[];
  readonly siteLine: string;

  constructor(private readonly root: HTMLElement, private readonly siteName: string) {
    this.select = root.querySelector('select[name=lp-model]')!;
    this.hubInput = root.querySelector('input[name=lp-hub]')!;
    this.line = root.querySelector('.lp-model')!;
    this.models = JSON.parse(root.dataset.models ?? '[]') as PickerModel[];
    this.siteLine = root.dataset.siteLine ?? '';
    this.select.addEventListener('change', () => this.picked());
    const check = () => {
      const spec = this.hubInput.value.trim();
      if (spec) this.choose({ type: 'hub', spec });
    };
    root.querySelector('button[name=lp-check]')!.addEventListener('click', check);
    this.hubInput.addEventListener('keydown', (e) => {
      if (e.key !== 'Enter') return;
      e.preventDefault(); // Enter checks the id; it does not submit the form (Run)
      check();
    });
    for (const name of ['lp-files', 'lp-folder']) {
      const input = root.querySelector<HTMLInputElement>(`input[name=${name}]`)!;
      input.addEventListener('change', () => {
        if (input.files && input.files.length > 0) this.choose({ type: 'local', files: [...input.files] });
      });
    }
    modelChoice.addEventListener('change', () => this.show());
    modelChoice.addEventListener('resolved', (e) => this.showResolved((e as CustomEvent<Resolved>).detail));
    this.show();
  }

  private picked(): void {
    const v = this.select.value;
    this.reveal(v);
    if (v === 'site') this.choose({ type: 'site' });
    else if (v.startsWith('hub:')) this.choose(this.hubChoice(v.slice(4)));
    else if (v === 'hub') this.hubInput.focus();
    // 'local' waits for the reader's files.
  }

  private hubChoice(spec: string): Choice {
    const entry = this.models.find((m) => m.hub === spec);
    return entry ? { type: 'hub', spec, entry } : { type: 'hub', spec };
  }

  /** Sets the page's choice and checks it (a hub model: its file list and config.json only). */
  private choose(choice: Choice): void {
    modelChoice.set(choice);
    if (choice.type !== 'site') void modelChoice.resolve(this.siteLine);
  }

  /** A shared link names a hub model: choose it, but fetch nothing until the reader presses Run. */
  static restore(spec: string, models: PickerModel[]): void {
    const entry = models.find((m) => m.hub === spec);
    modelChoice.set(entry ? { type: 'hub', spec, entry } : { type: 'hub', spec });
  }

  get listed(): PickerModel[] {
    return this.models;
  }

  private reveal(value: string): void {
    this.root.querySelector<HTMLElement>('.lp-picker-hub')!.hidden = value !== 'hub';
    this.root.querySelector<HTMLElement>('.lp-picker-local')!.hidden = value !== 'local';
    this.root.querySelector<HTMLElement>('.lp-model-note')!.hidden = value === 'site';
  }

  /** Shows the page's choice in this picker (it may have been made in another figure). */
  private show(): void {
    const c = modelChoice.choice;
    const value = c.type === 'site' ? 'site' : c.type === 'local' ? 'local' : this.models.some((m) => m.hub === c.spec) ? `hub:${c.spec}` : 'hub';
    this.select.value = value;
    if (c.type === 'hub' && value === 'hub') this.hubInput.value = c.spec;
    this.reveal(value);
    this.line.textContent =
      c.type === 'site' ? this.siteLine : c.type === 'hub' ? `${choiceName(c, this.siteName)} (from huggingface.co): its size and a memory estimate show here before anything large downloads.` : `${choiceName(c, this.siteName)}: reading its size…`;
  }

  private showResolved(r: Resolved): void {
    this.line.textContent = r.line;
  }
}
