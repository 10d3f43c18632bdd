/** The seeded sampler and the default stories260K corpus (src/node/sample-corpus.ts). */
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { codeVersion } from '../../src/node/code-version.ts';
import { openModel } from '../../src/node/open-model.ts';
import { defaultCorpusPath, readCorpus, sampleCorpus, sampleFromLogits, tokenizeCorpus } from '../../src/node/sample-corpus.ts';

describe('sampleFromLogits', () => {
  it('draws from softmax(logits/T) by inverse CDF', () => {
    // logits (0, ln 3): T = 1 → (1/4, 3/4); T = 1/2 → weights (1, 9) → (0.1, 0.9)
    const l = [0, Math.log(3)];
    expect([0.2, 0.26, 0.99].map((u) => sampleFromLogits(l, 1, u))).toEqual([0, 1, 1]);
    expect([0.09, 0.11].map((u) => sampleFromLogits(l, 0.5, u))).toEqual([0, 1]);
  });
});

describe('the default stories260K corpus', async () => {
  const m = await openModel('stories260K');
  const file = defaultCorpusPath('stories260K')!;
  const corpus = await readCorpus(file);

  it('is small, and records how it was made', () => {
    expect(statSync(file).size).toBeLessThanOrEqual(200 * 1024);
    expect(corpus.provenance).toMatchObject({ model: { name: 'stories260K', sha256: m.provenance.sha256 }, seed: 1, temperature: 1, maxTokensPerDocument: 128 });
    expect(corpus.provenance!.sampledTokens).toBeGreaterThanOrEqual(corpus.provenance!.tokens);
    expect(corpus.documents.length).toBe(corpus.provenance!.documents);
    const tokens = tokenizeCorpus(corpus, m.tokenizer).reduce((s, d) => s + d.length - 1, 0);
    // Re-tokenizing the decoded text gives nearly, not exactly, the sampled ids (tokenization is not unique).
    expect(Math.abs(tokens - corpus.provenance!.sampledTokens) / corpus.provenance!.sampledTokens).toBeLessThan(0.01);
  });

  it('is reproducible: the recorded seed regenerates its first document', async () => {
    const p = corpus.provenance!;
    const again = await sampleCorpus(m.hooked, m.tokenizer, m.provenance, codeVersion(), { seed: p.seed, temperature: p.temperature, tokens: 1, maxTokensPerDocument: p.maxTokensPerDocument });
    expect(again.documents).toEqual([corpus.documents[0]]);
  });

  it('another seed gives another text', async () => {
    const a = await sampleCorpus(m.hooked, m.tokenizer, m.provenance, 'test', { seed: 2, temperature: 1, tokens: 1, maxTokensPerDocument: 20 });
    expect(a.documents[0]).not.toBe(corpus.documents[0].slice(0, a.documents[0].length));
  });
});

describe('corpus files', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lenspress-corpus-'));
  it('a .txt file is one document', async () => {
    writeFileSync(path.join(dir, 'a.txt'), 'Tom had a red ball.');
    expect((await readCorpus(path.join(dir, 'a.txt'))).documents).toEqual(['Tom had a red ball.']);
  });
  it('JSON without "documents" is refused with what was expected', async () => {
    writeFileSync(path.join(dir, 'b.json'), '{"texts": []}');
    await expect(readCorpus(path.join(dir, 'b.json'))).rejects.toThrow(/b.json: expected a JSON object with "documents": an array of strings/);
  });
  it('a missing file', async () => {
    await expect(readCorpus(path.join(dir, 'nope.json'))).rejects.toThrow(/corpus file not found: .*nope.json/);
  });
});
