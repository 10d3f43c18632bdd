/**
 * Information flow as a vertical Sankey diagram (methods.md §3; the algorithm of InTraVisTo,
 * Brunello et al. 2025, re-derived from the group's notes — no code copied): importance
 * ("mass") flows down the network from a start cell, split at each block by norm shares
 *
 *   share_att^(ℓ,t) = ‖δ_att‖ / (‖x^(ℓ−1)‖ + ‖δ_att‖)     (hook_resid_pre, hook_attn_out)
 *   share_ff^(ℓ,t)  = ‖δ_ff‖ / (‖x'^(ℓ)‖ + ‖δ_ff‖)        (hook_resid_mid, hook_mlp_out)
 *
 * and across positions by the head-averaged attention Ā^(ℓ)[t, s] (attn.hook_pattern):
 *
 *   block x^(ℓ) at t, mass b ──b·share_ff──▶ ffn node ──▶ intermediate x'^(ℓ) at t
 *                            └─b·(1−share_ff) (residual) ─────────▶ intermediate, mass b
 *   intermediate at t, mass m ──m·share_att──▶ attention node ──m·share_att·Ā[t,s]──▶ x^(ℓ−1) at s
 *                              └─m·(1−share_att) (residual) ──────────────────────▶ x^(ℓ−1) at t
 *
 * A linear approximation (attention rollout weighted by norm shares): values and W_O are
 * ignored. Rows as in the logit lens: row 0 = embedding x^(0), row ℓ = output of block ℓ
 * (TransformerLens `blocks.{ℓ−1}`), row L+1 = the final norm (position-wise, so all its mass
 * goes straight to row L).
 *
 * Mass is conserved exactly (to float64 rounding): Ā rows are renormalised in float64 (a
 * float32 softmax row sums to 1 ± 1e-7), so at every row the block masses sum to the start
 * mass (1). Hiding the first (BOS) token drops key 0 and renormalises each attention row over
 * the keys left; a row whose only weight was on BOS (all others 0 in float32) sends its
 * attention mass to the query's own position. No mass then ever reaches position 0.
 *
 * Which attention links are SHOWN (top-k per attention node, or weight ≥ a minimum) does not
 * change any mass: the full recurrence is computed first and node masses come from it; the
 * links left out are only not listed. Their total per attention node is its `hiddenMass`
 * (and per graph `hiddenLinkMass`), so a renderer can draw a stub, and `fixedValue` (= mass,
 * which d3-sankey uses instead of summing links) keeps nodes at their true size.
 */
import type { HookedModel, HookMap } from '../engine/hooked-model.ts';
import { LenspressError } from '../errors.ts';
import type { ModelConfig } from '../model/config.ts';
import { blockHook } from '../model/hooks.ts';
import { attentionRow, requireHook, rowNorm } from './captured.ts';

export type FlowStart =
  /** One cell with mass 1: `row` 0..L+1 as in the logit lens, `position` 0..T−1. */
  | { kind: 'cell'; row: number; position: number }
  /** The final-norm row (L+1) at each of these positions — the generated ones — with mass 1/N each. */
  | { kind: 'generated'; positions: number[] };

export interface FlowOptions {
  start: FlowStart;
  /** How many blocks to go down from the start (default: all, down to the embedding). */
  layers?: number;
  /** Attention links listed per attention node: the k strongest (default k = 1) or all with Ā ≥ minWeight. */
  links?: { topK: number } | { minWeight: number };
  /** Drop the first (BOS) token's key and renormalise attention over the rest (default false). */
  hideBos?: boolean;
}

export type FlowNodeType = 'final' | 'block' | 'ffn' | 'intermediate' | 'attention';

export interface FlowNode {
  /** e.g. "block:3:5" (row 3, position 5), "attention:3:5" (inside block 3). */
  id: string;
  type: FlowNodeType;
  /** Row: the block-output row for block/final nodes; for ffn/intermediate/attention, the row of the block they belong to (1..L). */
  layer: number;
  position: number;
  mass: number;
  /** = mass: d3-sankey sizes a node by `fixedValue` when set, so hidden links do not shrink it. */
  fixedValue: number;
  /** The TransformerLens hook that holds this node's vector. */
  hook: string;
  /** share_ff (ffn node) or share_att (attention node) at this cell. */
  share?: number;
  /** Attention nodes: the mass of their links not listed. */
  hiddenMass?: number;
  /** Layout suggestion: 0 = the start row, one step per node type going down. */
  depth: number;
  /** Layout suggestion in [0, 1]: x by position (ffn nodes a quarter column right, attention a quarter left), y by depth (0 = top). */
  x: number;
  y: number;
}

export interface FlowLink {
  source: string;
  target: string;
  value: number;
  type: 'norm' | 'residual' | 'ffn' | 'attention';
  /** Attention links out of an attention node: the (renormalised) head-averaged weight Ā[t, s]. */
  weight?: number;
}

export interface FlowGraph {
  nodes: FlowNode[];
  links: FlowLink[];
  /** Block-node mass summed over positions for each row shown, top first: 1 at every row. */
  rowMass: { row: number; mass: number }[];
  /** Mass carried by attention links not listed (summed over all attention nodes). */
  hiddenLinkMass: number;
  /** Rows spanned: start row (top) down to `bottom`. */
  top: number;
  bottom: number;
  positions: number;
  settings: { start: FlowStart; layers: number; links: { topK: number } | { minWeight: number }; hideBos: boolean };
}

const bad = (msg: string) => new LenspressError('bad-option', msg);

function resolve(config: Pick<ModelConfig, 'n_layers'>, o: FlowOptions) {
  const L = config.n_layers;
  const startRow = o.start.kind === 'cell' ? o.start.row : L + 1;
  if (!Number.isInteger(startRow) || startRow < 0 || startRow > L + 1) throw bad(`the start row must be 0..${L + 1} (0 = embedding, ${L + 1} = final norm), got ${startRow}`);
  const maxLayers = Math.min(startRow, L);
  const layers = o.layers ?? maxLayers; // 0 only when starting at the embedding: nothing to cross
  if (o.layers !== undefined && (!Number.isInteger(layers) || layers < 1)) throw bad(`layers must be a whole number ≥ 1, got ${layers}`);
  const blockTop = Math.min(startRow, L), bottom = Math.max(0, blockTop - layers);
  return { L, startRow, blockTop, bottom, layers: Math.min(layers, maxLayers) };
}

/** The hooks computeFlow reads: per block shown, the four residual-stream sites and the pattern. */
export function flowHooks(config: Pick<ModelConfig, 'n_layers'>, options: FlowOptions): string[] {
  const { blockTop, bottom } = resolve(config, options);
  const names: string[] = [];
  for (let row = blockTop; row > bottom; row--) for (const h of ['hook_resid_pre', 'hook_attn_out', 'hook_resid_mid', 'hook_mlp_out', 'attn.hook_pattern'] as const) names.push(blockHook(row - 1, h));
  return names;
}

export function computeFlow(hooks: HookMap, config: Pick<ModelConfig, 'n_layers'>, options: FlowOptions): FlowGraph {
  const { L, startRow, blockTop, bottom, layers } = resolve(config, options);
  const links = options.links ?? { topK: 1 };
  if ('topK' in links && (!Number.isInteger(links.topK) || links.topK < 1)) throw bad(`top-k must be a whole number ≥ 1, got ${links.topK}`);
  if ('minWeight' in links && !(links.minWeight >= 0 && links.minWeight <= 1)) throw bad(`the minimum link weight must be in [0, 1], got ${links.minWeight}`);
  const hideBos = options.hideBos ?? false;
  const need = (row: number, h: Parameters<typeof blockHook>[1], rank: number) => requireHook(hooks, blockHook(row - 1, h), rank, 'the flow diagram', 'capture flowHooks(config, options)');
  // Starting at the embedding crosses no block: the length then comes from hook_embed.
  const T = blockTop > bottom ? need(blockTop, 'hook_resid_pre', 2).dims[0] : requireHook(hooks, 'hook_embed', 2, 'the flow diagram', 'capture hook_embed').dims[0];
  const startPositions = options.start.kind === 'cell' ? [options.start.position] : options.start.positions;
  if (startPositions.length === 0) throw bad('give at least one start position');
  for (const p of startPositions) {
    if (!Number.isInteger(p) || p < 0 || p >= T) throw bad(`start position ${p} is outside the prompt's positions 0..${T - 1}`);
    if (hideBos && p === 0) throw bad('the start position is the first (BOS) token, which --hide-bos hides: start at a later position');
  }
  if (new Set(startPositions).size !== startPositions.length) throw bad('the start positions repeat');

  const nodes: FlowNode[] = [], out: FlowLink[] = [];
  const depthOf = (row: number, step: number) => (startRow === L + 1 ? 1 : 0) + (blockTop - row) * 4 + step;
  const maxDepth = depthOf(bottom, 0) || 1;
  const addNode = (type: FlowNodeType, layer: number, position: number, mass: number, hook: string, step: number, extra: Partial<FlowNode> = {}) => {
    const depth = type === 'final' ? 0 : depthOf(layer, step);
    const dx = type === 'ffn' ? 0.25 : type === 'attention' ? -0.25 : 0;
    nodes.push({ id: `${type}:${layer}:${position}`, type, layer, position, mass, fixedValue: mass, hook, depth, x: (position + 0.5 + dx) / T, y: depth / maxDepth, ...extra });
  };
  const blockId = (row: number, t: number) => `block:${row}:${t}`;
  const blockHookName = (row: number) => (row === 0 ? blockHook(0, 'hook_resid_pre') : blockHook(row - 1, 'hook_resid_post'));

  let mass = new Float64Array(T);
  for (const p of startPositions) mass[p] = 1 / startPositions.length;
  if (startRow === L + 1) {
    for (let t = 0; t < T; t++) {
      if (mass[t] === 0) continue;
      addNode('final', L + 1, t, mass[t], 'ln_final.hook_normalized', 0);
      out.push({ source: `final:${L + 1}:${t}`, target: blockId(L, t), value: mass[t], type: 'norm' });
    }
  }
  const rowMass: FlowGraph['rowMass'] = [];
  let hiddenLinkMass = 0;
  for (let row = blockTop; ; row--) {
    rowMass.push({ row, mass: mass.reduce((a, b) => a + b, 0) });
    for (let t = 0; t < T; t++) if (mass[t] > 0) addNode('block', row, t, mass[t], blockHookName(row), 0);
    if (row === bottom) break;
    const pre = need(row, 'hook_resid_pre', 2), att = need(row, 'hook_attn_out', 2), mid = need(row, 'hook_resid_mid', 2), mlp = need(row, 'hook_mlp_out', 2);
    const pattern = need(row, 'attn.hook_pattern', 3);
    if (pattern.dims[1] !== T || pattern.dims[2] !== T) throw new LenspressError('bad-hook', `the flow diagram: ${blockHook(row - 1, 'attn.hook_pattern')} has dims [${pattern.dims.join(', ')}], expected [heads, ${T}, ${T}]`);
    const below = new Float64Array(T);
    for (let t = 0; t < T; t++) {
      const m = mass[t];
      if (m === 0) continue;
      const share = (a: number, b: number) => (a + b > 0 ? b / (a + b) : 0);
      const shareFf = share(rowNorm(mid, t), rowNorm(mlp, t)), shareAtt = share(rowNorm(pre, t), rowNorm(att, t));
      const [b, i, f, a] = [blockId(row, t), `intermediate:${row}:${t}`, `ffn:${row}:${t}`, `attention:${row}:${t}`];
      const hookOf = (h: Parameters<typeof blockHook>[1]) => blockHook(row - 1, h);
      if (m * shareFf > 0) {
        addNode('ffn', row, t, m * shareFf, hookOf('hook_mlp_out'), 1, { share: shareFf });
        out.push({ source: b, target: f, value: m * shareFf, type: 'ffn' }, { source: f, target: i, value: m * shareFf, type: 'ffn' });
      }
      if (m * (1 - shareFf) > 0) out.push({ source: b, target: i, value: m * (1 - shareFf), type: 'residual' });
      addNode('intermediate', row, t, m, hookOf('hook_resid_mid'), 2);
      below[t] += m * (1 - shareAtt);
      if (m * (1 - shareAtt) > 0) out.push({ source: i, target: blockId(row - 1, t), value: m * (1 - shareAtt), type: 'residual' });
      const attMass = m * shareAtt;
      if (attMass === 0) continue;
      const w = attentionRow(pattern, t, 'average');
      if (hideBos && t > 0) w[0] = 0;
      const sum = w.reduce((x, y) => x + y, 0);
      if (sum > 0) w.forEach((v, s) => (w[s] = v / sum));
      else w[t] = 1; // all weight was on the hidden BOS: keep the mass at the query's position
      const targets: { s: number; value: number; weight: number }[] = [];
      for (let s = 0; s < T; s++) {
        if (w[s] === 0) continue;
        below[s] += attMass * w[s];
        targets.push({ s, value: attMass * w[s], weight: w[s] });
      }
      const shown = 'topK' in links ? [...targets].sort((p, q) => q.weight - p.weight || p.s - q.s).slice(0, links.topK) : targets.filter((e) => e.weight >= links.minWeight);
      const hiddenMass = Math.max(0, attMass - shown.reduce((x, e) => x + e.value, 0));
      hiddenLinkMass += hiddenMass;
      addNode('attention', row, t, attMass, hookOf('hook_attn_out'), 3, { share: shareAtt, hiddenMass });
      out.push({ source: i, target: a, value: attMass, type: 'attention' });
      for (const e of shown) out.push({ source: a, target: blockId(row - 1, e.s), value: e.value, type: 'attention', weight: e.weight });
    }
    mass = below;
  }
  nodes.sort((p, q) => p.depth - q.depth || p.x - q.x);
  return { nodes, links: out, rowMass, hiddenLinkMass, top: startRow, bottom, positions: T, settings: { start: options.start, layers, links, hideBos } };
}

/** Runs the model on `ids` and computes its flow graph. */
export async function runFlow(model: HookedModel, ids: readonly number[], options: FlowOptions): Promise<FlowGraph> {
  const hooks = flowHooks(model.config, options);
  return computeFlow(await model.run(ids, hooks.length ? hooks : ['hook_embed']), model.config, options);
}
