/**
 * <FlowSankey> in Chromium: the static diagram with JavaScript off; Run in the page giving the
 * graph Node computes for the same props (same nodes and drawn links, masses within 1e-4:
 * float32 activations on WebGPU/wasm vs onnxruntime-node); a block node (click or Enter) and
 * a logit-lens cell set the start; URL state round trip; valid exports; no console errors.
 */
import type { Page } from '@playwright/test';
import type { FlowFigureData } from '../../src/core/figures/kinds/flow.ts';
import { FLOW_CSV_HEADER } from '../../src/core/figures/kinds/flow.ts';
import { checkExports, figureData, figureProps, nodeFigure, runLive, TRACING_ARTICLE, urlRoundTrip } from './figure-helpers.ts';
import { expect, test } from './fixtures.ts';

const figure = (page: Page) => page.locator('lp-figure[data-kind="flow"]').first();
const TOLERANCE = 1e-4;

/** Same start, same nodes and links; masses and link values within 1e-4. */
function expectSameGraph(live: FlowFigureData, expected: FlowFigureData) {
  expect(live.ids).toEqual(expected.ids);
  expect(live.graph.settings).toEqual(expected.graph.settings);
  expect(live.graph.nodes.map((n) => n.id)).toEqual(expected.graph.nodes.map((n) => n.id));
  expect(live.graph.links.map((l) => `${l.source}>${l.target}`)).toEqual(expected.graph.links.map((l) => `${l.source}>${l.target}`));
  let worst = 0;
  live.graph.nodes.forEach((n, i) => (worst = Math.max(worst, Math.abs(n.mass - expected.graph.nodes[i].mass))));
  live.graph.links.forEach((l, i) => (worst = Math.max(worst, Math.abs(l.value - expected.graph.links[i].value))));
  expect(worst).toBeLessThan(TOLERANCE);
}

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('the precomputed diagram is there: every node and link, tokens along the bottom', async ({ page }) => {
    await page.goto(TRACING_ARTICLE);
    const fig = figure(page);
    const data = await figureData<FlowFigureData>(fig);
    expectSameGraph(data, await nodeFigure<FlowFigureData>('flow', await figureProps(fig)));
    await expect(fig.locator('svg g.node')).toHaveCount(data.graph.nodes.length);
    await expect(fig.locator('svg path.link')).toHaveCount(data.graph.links.length);
    await expect(fig.locator('svg text.input-token')).toHaveCount(data.ids.length);
    expect(data.graph.settings.start).toEqual({ kind: 'cell', row: 6, position: data.ids.length - 1 });
    await expect(fig.locator('.lp-provenance')).toContainText('sha256 b0a507e7ad0f');
    await expect(fig.getByRole('button', { name: 'Run' })).toBeDisabled();
  });
});

test('Run with the figure’s own props gives the Node graph (WebGPU when offered)', async ({ page, consoleErrors }) => {
  await page.goto(TRACING_ARTICLE);
  const fig = figure(page);
  const props = await figureProps(fig);
  await runLive(fig, 'auto');
  const live = await figureData<FlowFigureData>(fig);
  expect(live.provenance.backend).toMatch(/WebGPU|WebAssembly/);
  expectSameGraph(live, await nodeFigure<FlowFigureData>('flow', props));
  await expect(fig.locator('svg g.node')).toHaveCount(live.graph.nodes.length);
  expect(consoleErrors).toEqual([]);
});

test('clicking a block node, or pressing Enter on one, sets the start; Run traces from there', async ({ page, consoleErrors }) => {
  await page.goto(TRACING_ARTICLE);
  const fig = figure(page);
  const data = await figureData<FlowFigureData>(fig);
  const last = data.ids.length - 1;
  // A small node, by keyboard: the lightest block node of row 2.
  const light = data.graph.nodes.filter((n) => n.type === 'block' && n.layer === 2).sort((a, b) => a.mass - b.mass)[0];
  await fig.locator(`[data-node="block:2:${light.position}"]`).focus();
  await page.keyboard.press('Enter');
  await expect(fig.locator('[name="row"]')).toHaveValue('2');
  await expect(fig.locator('[name="position"]')).toHaveValue(String(light.position));
  await expect(fig.locator('.lp-status')).toContainText('press Run');
  // A big one, by mouse: block 3 at the last position carries most of the mass.
  await fig.locator(`[data-node="block:3:${last}"]`).click();
  await expect(fig.locator('[name="row"]')).toHaveValue('3');
  await expect(fig.locator('[name="position"]')).toHaveValue(String(last));
  await runLive(fig);
  const live = await figureData<FlowFigureData>(fig);
  expect(live.graph.settings.start).toEqual({ kind: 'cell', row: 3, position: last });
  expectSameGraph(live, await nodeFigure<FlowFigureData>('flow', { ...(await figureProps(fig)), row: 3, position: last }));
  expect(consoleErrors).toEqual([]);
});

test('a logit-lens cell on the same page sets the flow’s start', async ({ page, consoleErrors }) => {
  await page.goto(TRACING_ARTICLE);
  const fig = figure(page);
  await fig.locator('[name="generated"]').fill('2');
  await page.locator('lp-figure[data-kind="logit-lens"] g.cell[data-row="4"][data-pos="7"]').click();
  await expect(fig.locator('[name="row"]')).toHaveValue('4');
  await expect(fig.locator('[name="position"]')).toHaveValue('7');
  await expect(fig.locator('[name="generated"]')).toHaveValue('0');
  await expect(fig).toHaveAttribute('data-state', 'selected');
  // The lens itself is unchanged: it announces the cell, it does not change its own controls.
  await expect(page.locator('lp-figure[data-kind="logit-lens"]')).not.toHaveAttribute('data-state', 'selected');
  expect(consoleErrors).toEqual([]);
});

test('URL state: a shared link restores prompt and options; Run computes with them', async ({ page, consoleErrors }) => {
  await page.goto(TRACING_ARTICLE);
  const options = { generated: '2', links: 'min-weight', minWeight: '0.05', hideBos: 'true', shadeBy: 'position', layers: '3' };
  const prompt = 'Tom had a <b>red</b> ball & "kite". He';
  const live = await urlRoundTrip<FlowFigureData>(page, () => figure(page), prompt, options);
  expect(live.prompt).toBe(prompt);
  expect(live.generated.length).toBe(2);
  expect(live.style.shadeBy).toBe('position');
  const props = { ...(await figureProps(figure(page))), prompt, generated: 2, links: 'min-weight', minWeight: 0.05, hideBos: true, shadeBy: 'position', layers: 3 };
  expectSameGraph(live, await nodeFigure<FlowFigureData>('flow', props));
  expect(await figure(page).locator('b').count()).toBe(0);
  expect(consoleErrors).toEqual([]);
});

test('exports: SVG with every link, PNG, JSON, CSV with a line per node', async ({ page, consoleErrors }) => {
  await page.goto(TRACING_ARTICLE);
  const fig = figure(page);
  const data = await figureData<FlowFigureData>(fig);
  await checkExports(page, fig, { selector: 'path.link', count: data.graph.links.length, header: FLOW_CSV_HEADER, rows: data.graph.nodes.length });
  expect(consoleErrors).toEqual([]);
});
