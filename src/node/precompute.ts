/**
 * Build-time figures: the same core functions the page's Worker runs, here on
 * onnxruntime-node. Models are opened once per build process and shared by all figures.
 */
import type { LogitLensOptions } from '../core/analysis/logit-lens.ts';
import { logitLensFigure, type LogitLensFigureData } from '../core/figures/logit-lens-figure.ts';
import { codeVersion } from './code-version.ts';
import { type NodeModel, openModel } from './open-model.ts';

const models = new Map<string, Promise<NodeModel>>();

export function sharedModel(name: string): Promise<NodeModel> {
  let m = models.get(name);
  if (!m) models.set(name, (m = openModel(name)));
  return m;
}

export async function precomputeLogitLens(modelName: string, prompt: string, opts: LogitLensOptions): Promise<LogitLensFigureData> {
  const m = await sharedModel(modelName);
  return logitLensFigure({ hooked: m.hooked, tokenizer: m.tokenizer, model: m.provenance, codeVersion: codeVersion() }, prompt, opts);
}
