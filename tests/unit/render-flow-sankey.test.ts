/**
 * The flow Sankey renderer (src/core/render/flow-sankey-svg.ts, flow-layout.ts) on a graph
 * computed from hand-made hooks (2 blocks, 3 positions): committed SVG snapshots, nodes at
 * fixed places per (row, position, type), link widths within the limits and stacked inside
 * their nodes, clickable block nodes, token strings as text only, the data left untouched.
 */
import { parseHTML } from 'linkedom';
import { describe, expect, it } from 'vitest';
import { computeFlow, type FlowOptions } from '../../src/core/analysis/flow.ts';
import type { HookMap } from '../../src/core/engine/hooked-model.ts';
import type { FlowFigureData } from '../../src/core/figures/kinds/flow.ts';
import { FLOW_GEOMETRY, flowColumnWidth, layoutFlow } from '../../src/core/render/flow-layout.ts';
import { renderFlowSankey } from '../../src/core/render/flow-sankey-svg.ts';
import { staticDocument } from '../../src/node/render-static.ts';
import { matchSvgSnapshot } from '../helpers/snapshot.ts';

/** Residual vectors [a, 0] and deltas [0, b]: share = b / (a + b) exactly. */
function hooks(): HookMap {
  const m: HookMap = new Map();
  const vec = (pairs: [number, number][]) => ({ data: Float32Array.from(pairs.flat()), dims: [pairs.length, 2] });
  const pattern = (rows: number[][]) => ({ data: Float32Array.from([...rows.flat(), ...rows.flat()]), dims: [2, 3, 3] });
  m.set('blocks.0.hook_resid_pre', vec([[2, 0], [1, 0], [1, 0]]));
  m.set('blocks.0.hook_attn_out', vec([[0, 1], [0, 1], [0, 2]]));
  m.set('blocks.0.hook_resid_mid', vec([[1, 0], [2, 0], [3, 0]]));
  m.set('blocks.0.hook_mlp_out', vec([[0, 1], [0, 1], [0, 1]]));
  m.set('blocks.0.attn.hook_pattern', pattern([[1, 0, 0], [0.5, 0.5, 0], [0.25, 0.25, 0.5]]));
  m.set('blocks.1.hook_resid_pre', vec([[1, 0], [3, 0], [1, 0]]));
  m.set('blocks.1.hook_attn_out', vec([[0, 1], [0, 1], [0, 3]]));
  m.set('blocks.1.hook_resid_mid', vec([[1, 0], [1, 0], [4, 0]]));
  m.set('blocks.1.hook_mlp_out', vec([[0, 0], [0, 1], [0, 1]]));
  m.set('blocks.1.attn.hook_pattern', pattern([[1, 0, 0], [0.75, 0.25, 0], [0.5, 0.125, 0.375]]));
  return m;
}

const PROVENANCE = { model: { name: 'test-model', sha256: 'ab'.repeat(32), parameters: 1234, format: 'test' }, codeVersion: '0.0.0+test', backend: 'test', settings: {} };

function figure(options: FlowOptions, extra: Partial<FlowFigureData> = {}): FlowFigureData {
  return {
    kind: 'flow',
    prompt: 'Tom ran',
    ids: [1, 20, 21],
    tokens: ['<s>', '▁Tom', '<img/src=x/onerror=alert(1)>'],
    promptLength: 3,
    generated: [],
    generatedTokens: [],
    nLayers: 2,
    contextLength: 512,
    graph: computeFlow(hooks(), { n_layers: 2 }, options),
    style: { shadeBy: 'layer', minLinkWidth: 1, maxLinkWidth: 28 },
    provenance: PROVENANCE,
    ...extra,
  };
}

const FROM_FINAL = figure({ start: { kind: 'cell', row: 3, position: 2 }, links: { topK: 1 } });
const GENERATED = figure(
  { start: { kind: 'generated', positions: [1, 2] }, links: { minWeight: 0.2 } },
  { promptLength: 2, generated: [21, 22], generatedTokens: ['<img/src=x/onerror=alert(1)>', '▁home'], style: { shadeBy: 'position', minLinkWidth: 2, maxLinkWidth: 20 } },
);

describe('flow Sankey renderer', () => {
  const doc = staticDocument();
  const svg = renderFlowSankey(FROM_FINAL, { document: doc });

  it('matches the committed SVG snapshots (start at the final norm, top-1; generated start, min weight, shaded by position)', () => {
    for (const [name, out] of [
      ['flow-sankey-small', svg],
      ['flow-sankey-generated', renderFlowSankey(GENERATED, { document: doc })],
    ] as const) {
      const r = matchSvgSnapshot(name, out.outerHTML);
      expect(r.ok, r.message).toBe(true);
    }
  });

  it('places each node by (row, position, type): a column per position, the start at the top, the embedding at the bottom', () => {
    const layout = layoutFlow(FROM_FINAL.graph, FROM_FINAL.style);
    const { labelW, top, step } = FLOW_GEOMETRY;
    const col = layout.col;
    expect(col).toBe(56); // 3 positions: the widest columns
    for (const { node, x0, x1, y0 } of layout.nodes) {
      const dx = node.type === 'ffn' ? 0.25 : node.type === 'attention' ? -0.25 : 0;
      expect((x0 + x1) / 2, node.id).toBeCloseTo(labelW + (node.position + 0.5 + dx) * col, 9);
      expect(y0, node.id).toBe(top + node.depth * step);
    }
    const y = (id: string) => layout.nodes.find((n) => n.node.id === id)!.y0;
    expect(y('final:3:2')).toBeLessThan(y('block:2:2'));
    expect(y('block:2:2')).toBeLessThan(y('ffn:2:2'));
    expect(y('ffn:2:2')).toBeLessThan(y('intermediate:2:2'));
    expect(y('intermediate:2:2')).toBeLessThan(y('attention:2:2'));
    expect(y('attention:2:2')).toBeLessThan(y('block:1:2'));
    expect(y('block:0:0')).toBe(Math.max(...layout.nodes.map((n) => n.y0)));
    // Another start in the same row: the shared cells stay where they were.
    const other = layoutFlow(figure({ start: { kind: 'cell', row: 3, position: 1 } }).graph, FROM_FINAL.style);
    const at = (l: typeof layout, id: string) => l.nodes.find((n) => n.node.id === id)!;
    expect(at(other, 'block:0:0').y0).toBe(at(layout, 'block:0:0').y0);
    expect((at(other, 'block:1:1').x0 + at(other, 'block:1:1').x1) / 2).toBeCloseTo((at(layout, 'block:1:1').x0 + at(layout, 'block:1:1').x1) / 2, 9);
  });

  it('narrows columns (56 → 36 px) so longer prompts fit an article column', () => {
    expect([1, 3, 14, 16, 20, 40, 200].map(flowColumnWidth)).toEqual([56, 56, 56, 50, 40, 36, 36]);
    expect(Number(svg.getAttribute('data-focus-x'))).toBe(FLOW_GEOMETRY.labelW + 2.5 * 56); // the start column's centre
  });

  it('sizes links by mass within the limits and stacks them inside their nodes', () => {
    for (const fig of [FROM_FINAL, GENERATED]) {
      const { minLinkWidth, maxLinkWidth } = fig.style;
      const layout = layoutFlow(fig.graph, fig.style);
      const box = new Map(layout.nodes.map((n) => [n.node.id, n]));
      for (const l of layout.links) {
        expect(l.width).toBeCloseTo(Math.max(minLinkWidth, l.link.value * maxLinkWidth), 12);
        expect(l.width).toBeLessThanOrEqual(maxLinkWidth + 1e-9);
        const [xs, ys, , , , , xt, yt] = l.d.slice(1).split(/[C ,]/).map(Number);
        const s = box.get(l.link.source)!, t = box.get(l.link.target)!;
        // The link's centre line leaves the source's bottom and enters the target's top, its band inside both nodes.
        expect(ys).toBe(s.y1);
        expect(yt).toBe(t.y0);
        expect(xs - l.width / 2).toBeGreaterThanOrEqual(s.x0 - 0.01);
        expect(xs + l.width / 2).toBeLessThanOrEqual(s.x1 + 0.01);
        expect(xt - l.width / 2).toBeGreaterThanOrEqual(t.x0 - 0.01);
        expect(xt + l.width / 2).toBeLessThanOrEqual(t.x1 + 0.01);
      }
      // A node is as wide as its mass says (or as the links it stacks).
      for (const n of layout.nodes) expect(n.x1 - n.x0).toBeGreaterThanOrEqual(Math.max(minLinkWidth, n.node.mass * maxLinkWidth) - 1e-9);
    }
    const start = layoutFlow(FROM_FINAL.graph, FROM_FINAL.style).nodes.find((n) => n.node.id === 'final:3:2')!;
    expect(start.x1 - start.x0).toBe(28); // mass 1 = maxLinkWidth
  });

  it('makes block nodes focusable starts: data-set-controls names row and position', () => {
    const starts = [...svg.querySelectorAll('[data-set-controls]')];
    const blocks = FROM_FINAL.graph.nodes.filter((n) => n.type === 'block' || n.type === 'final');
    expect(starts.length).toBe(blocks.length);
    expect(starts.every((g) => g.getAttribute('tabindex') === '0')).toBe(true);
    const b = svg.querySelector('[data-node="block:1:0"]')!;
    expect(JSON.parse(b.getAttribute('data-set-controls')!)).toEqual({ row: 1, position: 0, generated: 0 });
    expect(svg.querySelector('[data-node="attention:2:2"]')!.hasAttribute('data-set-controls')).toBe(false);
    expect(svg.querySelectorAll('path.link').length).toBe(FROM_FINAL.graph.links.length);
  });

  it('colours nodes by type and shades them by layer or by position', () => {
    const fill = (s: SVGSVGElement, id: string) => [s.querySelector(`[data-node="${id}"] rect`)!.getAttribute('fill'), Number(s.querySelector(`[data-node="${id}"] rect`)!.getAttribute('fill-opacity'))] as const;
    expect(fill(svg, 'block:2:2')[0]).toBe(fill(svg, 'intermediate:2:2')[0]);
    expect(new Set([fill(svg, 'block:2:2')[0], fill(svg, 'attention:2:2')[0], fill(svg, 'ffn:2:2')[0]]).size).toBe(3);
    expect(fill(svg, 'block:2:2')[1]).toBeCloseTo(0.35 + 0.65 * (2 / 3), 3);
    expect(fill(svg, 'block:0:2')[1]).toBeCloseTo(0.35, 3);
    const gen = renderFlowSankey(GENERATED, { document: doc });
    expect(fill(gen, 'block:0:1')[1]).toBeCloseTo(0.35 + 0.65 * 0.5, 3);
    expect(gen.querySelectorAll('line.sep-generated').length).toBe(1);
    expect(gen.querySelector('text.start-token')!.textContent).toBe('→<img/…');
  });

  it('renders token strings as text, never as markup, and leaves the data as it was', () => {
    const before = JSON.stringify(GENERATED);
    const out = renderFlowSankey(GENERATED, { document: doc });
    expect(JSON.stringify(GENERATED)).toBe(before);
    expect(out.querySelector('img')).toBeNull();
    const reparsed = parseHTML(`<!doctype html><html><body>${out.outerHTML}</body></html>`).document;
    expect(reparsed.querySelector('img')).toBeNull();
    expect(out.outerHTML).toContain('&lt;img/src=x/onerror=alert(1)&gt;');
  });
});
