/**
 * `lenspress heads`: per-head contributions (methods.md §4): the correlation between each
 * head's L2 norm and its cosine to the attention output over the chosen positions (every
 * (layer, head, position) is a pair; p-values as scipy's), and the top heads by each measure.
 * Layers and heads are numbered as in TransformerLens (blocks.{layer}, from 0).
 */
import { type HeadContributionOptions, runHeadContributions } from '../core/analysis/head-contributions.ts';
import type { CorrelationTest } from '../core/analysis/stats.ts';
import { encodePrompt, exclusive, provenance } from './analysis-args.ts';
import { intFlag, parseCommand, requirePrompt } from './args.ts';
import { openFromFlags } from './open.ts';

const fmt = (t: CorrelationTest) => `${t.statistic.toFixed(4).padStart(8)}   p = ${t.pValue.toPrecision(4)}`;

export async function headsCommand(args: string[]): Promise<void> {
  const values = parseCommand(args, { first: { type: 'string' }, last: { type: 'string' }, 'top-k': { type: 'string', default: '10' } });
  const prompt = requirePrompt(values.prompt as string | undefined);
  exclusive(values, ['first'], ['last']);
  const m = await openFromFlags(values);
  const ids = encodePrompt(m, prompt), T = ids.length, c = m.model.config;
  const options: HeadContributionOptions = {
    positions: values.first !== undefined ? { first: intFlag('first', values.first, 1, T) } : values.last !== undefined ? { last: intFlag('last', values.last, 1, T) } : 'all',
    topK: intFlag('top-k', values['top-k'], 1, c.n_layers * c.n_heads),
  };
  const heads = await runHeadContributions(m.hooked, ids, options);
  const tokens = ids.map((id) => m.tokenizer.piece(id));
  const settings = { positions: JSON.stringify(options.positions), topK: options.topK!, source: heads.source };
  if (values.json) {
    console.log(JSON.stringify({ kind: 'heads', prompt, ids, tokens, heads, provenance: provenance(m, settings) }, null, 2));
    return;
  }
  const { pearson, spearman, kendall } = heads.correlation;
  console.log(`L2 norm vs cosine over positions ${heads.chosen[0]}..${heads.chosen.at(-1)} (${pearson.n} (layer, head, position) pairs):`);
  console.log(`  Pearson r     ${fmt(pearson)}`);
  console.log(`  Spearman rho  ${fmt(spearman)}`);
  console.log(`  Kendall tau-b ${fmt(kendall)}   (${kendall.method})`);
  for (const [title, rows] of [['by L2 norm', heads.top.byNorm], ['by cosine', heads.top.byCosine]] as const) {
    console.log(`\ntop ${rows.length} heads ${title} (means over the chosen positions)\n  layer  head     norm   cosine`);
    for (const r of rows) console.log(`  ${String(r.layer).padStart(5)} ${String(r.head).padStart(5)} ${r.norm.toFixed(4).padStart(8)} ${r.cosine.toFixed(4).padStart(8)}`);
  }
  console.log(`\n${m.provenance.name} sha256:${m.provenance.sha256.slice(0, 12)} · code ${m.figure.codeVersion}`);
}
