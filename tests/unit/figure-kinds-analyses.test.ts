/**
 * The flow, heads and attention-text figure kinds on stories260K: their props as the form
 * sends them (numbers, head as a string, indices counted from the end), the same data as the
 * analyses run directly, the controls derived from the model, the click-to-start hooks, and
 * the zod props schemas (defaults suit stories260K; invalid props are refused with a reason).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { runAttentionText } from '../../src/core/analysis/attention-text.ts';
import { runFlow } from '../../src/core/analysis/flow.ts';
import { runHeadContributions } from '../../src/core/analysis/head-contributions.ts';
import type { FigureContext } from '../../src/core/figures/figure-kind.ts';
import { attentionTextKind, type AttentionTextFigureProps } from '../../src/core/figures/kinds/attention-text.ts';
import { flowKind, type FlowFigureProps } from '../../src/core/figures/kinds/flow.ts';
import { headsKind } from '../../src/core/figures/kinds/heads.ts';
import { FIGURES } from '../../src/core/figures/registry.ts';
import { type NodeModel, openModel } from '../../src/node/open-model.ts';
import { resolveFigure } from '../../src/site/figure-components.ts';
import { AttentionTextProps, FlowSankeyProps, HeadContributionsProps } from '../../src/site/props.ts';
import { objectShape } from '../../src/site/schema-doc.ts';

const PROMPT = 'Lily saw a big dog. She';
let m: NodeModel, ctx: FigureContext, ids: number[];

beforeAll(async () => {
  m = await openModel('stories260K');
  ctx = { hooked: m.hooked, tokenizer: m.tokenizer, model: m.provenance, codeVersion: 'test' };
  ids = m.tokenizer.encode(PROMPT, { addBos: true });
});

/** A component's author props → the kind's props, as the page's components resolve them. */
const propsOf = <T>(component: string, v: Record<string, unknown>): T => resolveFigure(component, v).props as T;

describe('flow figure kind', () => {
  it('defaults to the final norm at the last position, and gives runFlow’s graph', async () => {
    const p = propsOf<FlowFigureProps>('FlowSankey', { prompt: PROMPT });
    expect(p).toMatchObject({ row: -1, position: -1, generated: 0, layers: 0, links: 'top-k', topK: 1, hideBos: false, shadeBy: 'layer' });
    const data = await flowKind.compute(ctx, p);
    expect(data.graph.settings.start).toEqual({ kind: 'cell', row: 6, position: ids.length - 1 });
    expect(data.graph).toEqual(await runFlow(m.hooked, ids, { start: { kind: 'cell', row: 6, position: ids.length - 1 }, links: { topK: 1 } }));
    for (const r of data.graph.rowMass) expect(Math.abs(r.mass - 1)).toBeLessThan(1e-9);
    expect(data.tokens).toEqual(ids.map((id) => m.tokenizer.piece(id)));
    expect(data.provenance.settings).toEqual({ start: `row 6, position ${ids.length - 1}`, layers: 5, links: 'top-1', hideBos: false });
  });

  it('takes the form’s values: rows and positions from the end, blocks, min weight, hidden BOS', async () => {
    const p = { ...propsOf<FlowFigureProps>('FlowSankey', { prompt: PROMPT }), row: -2, position: -3, layers: 2, links: 'min-weight' as const, minWeight: 0.2, hideBos: true };
    const data = await flowKind.compute(ctx, p);
    expect(data.graph.settings).toEqual({ start: { kind: 'cell', row: 5, position: ids.length - 3 }, layers: 2, links: { minWeight: 0.2 }, hideBos: true });
    expect(data.graph.bottom).toBe(3);
    expect(data.graph.links.filter((l) => l.weight !== undefined).every((l) => l.weight! >= 0.2)).toBe(true);
    await expect(flowKind.compute(ctx, { ...p, row: 7 })).rejects.toThrow(/the start row must be a whole number from -7 to 6/);
    await expect(flowKind.compute(ctx, { ...p, position: 99 })).rejects.toThrow(/the start position must be a whole number from -\d+ to \d+/);
    await expect(flowKind.compute(ctx, { ...p, prompt: '  ' })).rejects.toThrow(/the prompt is empty/);
  });

  it('with `generated`, starts from the positions that produced the greedy tokens', async () => {
    const p = { ...propsOf<FlowFigureProps>('FlowSankey', { prompt: PROMPT }), generated: 3 };
    const data = await flowKind.compute(ctx, p);
    const P = ids.length;
    expect(data.generated.length).toBe(3);
    expect(data.ids).toEqual([...ids, ...data.generated.slice(0, 2)]);
    expect(data.promptLength).toBe(P);
    expect(data.graph.settings.start).toEqual({ kind: 'generated', positions: [P - 1, P, P + 1] });
    expect(data.graph.nodes.filter((n) => n.type === 'final').map((n) => n.mass)).toEqual([1 / 3, 1 / 3, 1 / 3]);
  });

  it('derives its controls from the model, and a selected lens cell sets the start', () => {
    const data = { nLayers: 5, contextLength: 512 } as Parameters<NonNullable<typeof flowKind.controlsFor>>[0];
    const row = flowKind.controlsFor!(data).find((c) => c.name === 'row')!;
    expect(row).toMatchObject({ type: 'number', min: -7, max: 6 });
    expect(flowKind.onSelectCell!({ row: 3, position: 5 })).toEqual({ row: 3, position: 5, generated: 0 });
    // Every control the kind declares is a prop of the schema (the form's values become props).
    const schemaKeys = Object.keys(objectShape(FlowSankeyProps));
    for (const c of flowKind.controls) expect(schemaKeys).toContain(c.name);
  });
});

describe('heads figure kind', () => {
  it('gives runHeadContributions’s data; N beyond the prompt means the whole prompt', async () => {
    const p = propsOf<Parameters<typeof headsKind.compute>[1]>('HeadContributions', { prompt: PROMPT });
    expect(p).toEqual({ prompt: PROMPT, positions: 'all', count: 10, topK: 5 });
    const data = await headsKind.compute(ctx, p);
    expect(data.heads).toEqual(await runHeadContributions(m.hooked, ids, { positions: 'all', topK: 5 }));
    expect(data.heads.correlation.pearson.n).toBe(5 * 8 * ids.length);
    const last = await headsKind.compute(ctx, { ...p, positions: 'last', count: 100 });
    expect(last.heads.chosen).toEqual(ids.map((_, t) => t));
    expect(last.provenance.settings.positions).toBe(`last ${ids.length}`);
    const first = await headsKind.compute(ctx, { ...p, positions: 'first', count: 3, topK: 2 });
    expect(first.heads.chosen).toEqual([0, 1, 2]);
    expect(first.heads.top.byNorm.length).toBe(2);
    for (const c of headsKind.controls) expect(Object.keys(objectShape(HeadContributionsProps))).toContain(c.name);
    for (const c of attentionTextKind.controls) expect(Object.keys(objectShape(AttentionTextProps))).toContain(c.name);
  });
});

describe('attention-text figure kind', () => {
  it('takes the head as the form sends it (a string) and counts layer and query from the end', async () => {
    const p = propsOf<AttentionTextFigureProps>('AttentionText', { prompt: PROMPT });
    expect(p).toMatchObject({ layer: 1, head: 'average', query: -1, threshold: 0, minWidth: 1, maxWidth: 6, scale: 'max', width: 640 });
    const data = await attentionTextKind.compute(ctx, { ...p, layer: -1, head: '3', query: -2 });
    const piece = (id: number) => m.tokenizer.piece(id);
    expect(data.attention).toEqual(await runAttentionText(m.hooked, ids, piece, { layer: 4, head: 3, query: ids.length - 2, threshold: 0, minWidth: 1, maxWidth: 6, scale: 'max' }));
    const avg = await attentionTextKind.compute(ctx, p);
    expect(avg.attention.head).toBe('average');
    expect(avg.attention.tokens.reduce((s, t) => s + t.weight, 0)).toBeCloseTo(1, 5);
    await expect(attentionTextKind.compute(ctx, { ...p, head: '8' })).rejects.toThrow(/the head must be 0\.\.7 or the average, got 8/);
    const head = attentionTextKind.controlsFor!(avg).find((c) => c.name === 'head')!;
    expect(head.type === 'select' && head.options.map((o) => (typeof o === 'string' ? o : o.value))).toEqual(['average', '0', '1', '2', '3', '4', '5', '6', '7']);
  });
});

describe('registry and props', () => {
  it('registers the three kinds', () => {
    expect(FIGURES.flow).toBe(flowKind);
    expect(FIGURES.heads).toBe(headsKind);
    expect(FIGURES['attention-text']).toBe(attentionTextKind);
  });

  it('refuses invalid props with a reason', () => {
    expect(FlowSankeyProps.safeParse({ prompt: 'a', minLinkWidth: 5, maxLinkWidth: 4 }).error?.issues[0].message).toBe('maxLinkWidth must be at least minLinkWidth');
    expect(FlowSankeyProps.safeParse({ prompt: 'a', links: 'all' }).success).toBe(false);
    expect(FlowSankeyProps.safeParse({ prompt: 'a', colour: 'red' }).success).toBe(false); // unknown props are refused (strict)
    expect(AttentionTextProps.safeParse({ prompt: 'a', head: 'mean' }).success).toBe(false);
    expect(AttentionTextProps.parse({ prompt: 'a', head: 2 }).head).toBe(2);
    expect(HeadContributionsProps.safeParse({ prompt: ' ' }).error?.issues[0].message).toBe('prompt must not be empty');
  });
});
