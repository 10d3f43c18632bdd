/**
 * `lenspress flow`: the information-flow graph (methods.md §3) as JSON ready for d3-sankey, or
 * as a table of block-node masses (rows top to bottom × positions) for people.
 * --layer is a row as in the logit lens: 0 = embedding, ℓ = output of block ℓ, L+1 = final norm.
 * --generated N generates N tokens greedily, runs prompt + the first N−1 of them, and starts
 * from the N positions whose outputs are the generated tokens (mass 1/N each).
 */
import { type FlowOptions, runFlow } from '../core/analysis/flow.ts';
import { generateGreedy } from '../core/engine/generate.ts';
import { LenspressError } from '../core/errors.ts';
import { displayPiece } from '../core/tokenizer/tokenizer.ts';
import { cell, encodePrompt, exclusive, numberFlag, provenance } from './analysis-args.ts';
import { intFlag, parseCommand, requirePrompt } from './args.ts';
import { openFromFlags } from './open.ts';

export async function flowCommand(args: string[]): Promise<void> {
  const values = parseCommand(args, {
    layer: { type: 'string' },
    position: { type: 'string' },
    generated: { type: 'string' },
    layers: { type: 'string' },
    'top-k': { type: 'string' },
    'min-weight': { type: 'string' },
    'hide-bos': { type: 'boolean', default: false },
  });
  const prompt = requirePrompt(values.prompt as string | undefined);
  exclusive(values, ['layer', 'position'], ['generated']);
  exclusive(values, ['top-k'], ['min-weight']);
  const m = await openFromFlags(values);
  const L = m.model.config.n_layers;
  let ids = encodePrompt(m, prompt), generated: number[] = [];
  let start: FlowOptions['start'];
  if (values.generated !== undefined) {
    const n = intFlag('generated', values.generated, 1, m.model.config.n_ctx - ids.length + 1);
    generated = await generateGreedy(m.hooked, ids, { maxNewTokens: n });
    if (generated.length === 0) throw new LenspressError('bad-option', 'the model generated no token (the context is full): shorten the prompt');
    const P = ids.length;
    ids = [...ids, ...generated.slice(0, -1)];
    start = { kind: 'generated', positions: generated.map((_, i) => P - 1 + i) };
  } else {
    const row = values.layer === undefined ? L + 1 : intFlag('layer', values.layer, 0, L + 1);
    const position = values.position === undefined ? ids.length - 1 : intFlag('position', values.position, 0, ids.length - 1);
    start = { kind: 'cell', row, position };
  }
  const options: FlowOptions = {
    start,
    layers: values.layers === undefined ? undefined : intFlag('layers', values.layers, 1, L),
    links: values['min-weight'] !== undefined ? { minWeight: numberFlag('min-weight', values['min-weight'], 0, 1) } : { topK: intFlag('top-k', values['top-k'] ?? '1', 1, ids.length) },
    hideBos: values['hide-bos'] === true,
  };
  const graph = await runFlow(m.hooked, ids, options);
  const tokens = ids.map((id) => m.tokenizer.piece(id));
  const settings = { start: JSON.stringify(start), layers: graph.settings.layers, links: JSON.stringify(graph.settings.links), hideBos: graph.settings.hideBos };
  if (values.json) {
    console.log(JSON.stringify({ kind: 'flow', prompt, ids, tokens, generated: { ids: generated, tokens: generated.map((id) => m.tokenizer.piece(id)) }, graph, provenance: provenance(m, settings) }, null, 2));
    return;
  }
  const W = 10, T = ids.length;
  const mass = new Map(graph.nodes.filter((n) => n.type === 'block').map((n) => [`${n.layer}:${n.position}`, n.mass]));
  const label = (row: number) => (row === 0 ? 'embed' : `block ${row}`);
  console.log(cell('', W) + tokens.map((t) => cell(displayPiece(t), W)).join(''));
  for (const { row } of graph.rowMass) {
    console.log(cell(label(row), W) + Array.from({ length: T }, (_, t) => cell(mass.has(`${row}:${t}`) ? `${(mass.get(`${row}:${t}`)! * 100).toFixed(1)}%` : '·', W)).join(''));
  }
  const from = start.kind === 'cell' ? `${start.row === L + 1 ? 'the final norm' : label(start.row)} at position ${start.position}` : `final norm at positions ${start.positions.join(', ')} (generated: ${generated.map((id) => displayPiece(m.tokenizer.piece(id))).join('')})`;
  console.log(`\nmass of each block node, starting from ${from} · ${graph.nodes.length} nodes, ${graph.links.length} links (${JSON.stringify(graph.settings.links)}${graph.settings.hideBos ? ', BOS hidden' : ''})`);
  console.log(`${m.provenance.name} sha256:${m.provenance.sha256.slice(0, 12)} · code ${m.figure.codeVersion}`);
}
