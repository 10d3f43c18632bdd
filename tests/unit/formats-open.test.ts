/** `--model` accepts a Hugging Face folder, a .gguf, a .bin or a known name, with provenance; the CLI on a folder and a GGUF. */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parameterCount } from '../../src/core/model/config.ts';
import { randomModel, tinyConfig } from '../../src/core/model/random.ts';
import { openModel } from '../../src/node/open-model.ts';
import { PROJECT_ROOT } from '../../src/node/project-root.ts';
import { writeGgufCheckpoint, writeHfCheckpoint } from '../../src/node/write-checkpoint.ts';
import { storiesPath } from '../helpers/stories.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'lenspress-open-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
const model = randomModel(tinyConfig('mistral', { n_layers: 2 }), 42);
const folder = path.join(tmp, 'tiny-mistral');
const sharded = path.join(tmp, 'tiny-mistral-sharded');
const gguf = path.join(tmp, 'tiny-mistral.Q8_0.gguf');

beforeAll(async () => {
  await writeHfCheckpoint(model, folder, { dtype: 'bfloat16' });
  await writeHfCheckpoint(model, sharded, { shards: 2 });
  await writeGgufCheckpoint(model, gguf, { type: 'Q8_0' });
});

describe('openModel', () => {
  it('a Hugging Face folder: name, sha256 of model.safetensors, format, parameters', async () => {
    const m = await openModel(folder);
    expect(m.provenance).toEqual({ name: 'tiny-mistral', sha256: sha(path.join(folder, 'model.safetensors')), format: 'Hugging Face safetensors (bfloat16)', parameters: parameterCount(model.config) });
    expect(m.tokenizer.encode('Elvis Presley')).toEqual([1, 1744, 3225, 3981, 2047]);
    expect((await m.hooked.run([1, 1744, 3225], ['logits'])).get('logits')!.dims).toEqual([3, 32000]);
  });

  it('a sharded folder: sha256 of the first shard', async () => {
    const m = await openModel(`${sharded}/`);
    expect(m.provenance.name).toBe('tiny-mistral-sharded');
    expect(m.provenance.sha256).toBe(sha(path.join(sharded, 'model-00001-of-00002.safetensors')));
    expect(m.provenance.format).toBe('Hugging Face safetensors (float32, 2 shards)');
  });

  it('a .gguf file: sha256 of the file, its embedded tokenizer', async () => {
    const m = await openModel(gguf);
    expect(m.provenance).toMatchObject({ name: 'tiny-mistral.Q8_0', sha256: sha(gguf), format: 'GGUF v3 (q8_0)' });
    expect(m.tokenizer.encode('Elvis Presley')).toEqual([1, 1744, 3225, 3981, 2047]);
  });

  it('stories260K by name, its .bin and its .gguf (with --tokenizer to get SentencePiece\'s whitespace handling)', async () => {
    const byName = await openModel('stories260K');
    expect(byName.provenance.format).toBe('llama2.c .bin');
    const bin = await openModel(storiesPath('stories260K.bin'));
    expect(bin.provenance.sha256).toBe(byName.provenance.sha256);
    const g = await openModel(storiesPath('stories260K.gguf'));
    expect(g.provenance).toMatchObject({ name: 'stories260K', sha256: '270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d', format: 'GGUF v3 (float32)' });
    const withSp = await openModel(storiesPath('stories260K.gguf'), { tokenizerPath: storiesPath('tok512.model') });
    expect(withSp.tokenizer.encode('a  b')).toEqual(byName.tokenizer.encode('a  b'));
    expect(g.tokenizer.encode('a  b')).not.toEqual(byName.tokenizer.encode('a  b'));
  });

  it('a folder with --tokenizer pointing at a tokenizer.json elsewhere', async () => {
    const bare = path.join(tmp, 'no-tokenizer');
    await writeHfCheckpoint(model, bare, { tokenizer: false });
    await expect(openModel(bare)).rejects.toThrow(new RegExp(`${bare}: no tokenizer.json or tokenizer.model; add one or pass --tokenizer`));
    const m = await openModel(bare, { tokenizerPath: path.join(folder, 'tokenizer.json') });
    expect(m.tokenizer.encode('Elvis Presley')).toEqual([1, 1744, 3225, 3981, 2047]);
  });

  it('explains what it accepts', async () => {
    await expect(openModel(path.join(tmp, 'nothing-here'))).rejects.toThrow(/a Hugging Face model folder, a .gguf file, a llama2.c .bin file, or a hub id/);
    await expect(openModel(path.join(tmp, 'missing.gguf'))).rejects.toThrow(/GGUF file not found: .*missing.gguf/);
    const empty = path.join(tmp, 'empty-folder');
    mkdirSync(empty);
    await expect(openModel(empty)).rejects.toThrow(/empty-folder\/config.json not found/);
    writeFileSync(path.join(empty, 'config.json'), '{ not json');
    await expect(openModel(empty)).rejects.toThrow(/empty-folder\/config.json: not valid JSON/);
  });
});

describe('the CLI on the new formats', () => {
  const cli = (args: string[]) => spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'bin/lenspress.mjs'), ...args], { encoding: 'utf8', timeout: 60_000 });

  it('generate --model <folder> and --model <file.gguf>', () => {
    for (const spec of [folder, gguf]) {
      const r = cli(['generate', '--model', spec, '--prompt', 'Elvis Presley', '--max-new-tokens', '3', '--json']);
      expect(r.stderr).toBe('');
      const j = JSON.parse(r.stdout) as { ids: number[] };
      expect(j.ids.length).toBe(3);
    }
  });

  it('a broken checkpoint is one line naming the file and the tensor, exit status 2', () => {
    const broken = path.join(tmp, 'broken');
    rmSync(broken, { recursive: true, force: true });
    mkdirSync(broken);
    for (const f of ['config.json', 'model.safetensors']) writeFileSync(path.join(broken, f), readFileSync(path.join(folder, f)));
    const p = path.join(broken, 'model.safetensors');
    const bytes = readFileSync(p);
    writeFileSync(p, bytes.subarray(0, bytes.length - 1000));
    const r = cli(['generate', '--model', broken, '--prompt', 'x']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`${p}: tensor lm_head.weight: .* truncated`));
    expect(r.stderr.trim().split('\n').length).toBe(1);
  });
});
