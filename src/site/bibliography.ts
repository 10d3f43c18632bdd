/**
 * The works articles cite, by key: <Cite key="tuned-lens" /> links to #ref-tuned-lens in the
 * article's <Bibliography />. Author–year style: "(Belrose et al., 2023)"; two works with the
 * same label and year get 2013a / 2013b, decided over this whole list so a label never
 * changes between articles.
 *
 * Adding a work: check title, authors, year and identifier at the source (arXiv, ACL
 * Anthology, the publisher's DOI); never guess a URL — leave it out instead.
 */
import { LenspressError } from '../core/errors.ts';

export interface BibEntry {
  /** Lowercase letters, digits and dashes: it becomes the anchor #ref-<key>. */
  key: string;
  /** People as "Family, Given"; an organisation or a pseudonym as written ("Gemma Team", "nostalgebraist"). */
  authors: string[];
  /** More authors than listed: printed "et al." in the reference list too. */
  moreAuthors?: boolean;
  year: number;
  title: string;
  /** Where it appeared: "ACL 2020", "Nature Methods 17, 261–272", "LessWrong", "GitHub repository". */
  venue: string;
  arxiv?: string;
  doi?: string;
  /** The work's page when it has no arXiv id or DOI (a post, a repository, an ACL Anthology page). */
  url?: string;
}

export const BIBLIOGRAPHY: readonly BibEntry[] = [
  {
    key: 'intravisto',
    // Author order of arXiv's metadata for 2507.13858 (as mirrored with arXiv's TeX escapes,
    // "Nicol\`o Brunello, …"); one aggregator's BibTeX lists Sassella first — arXiv's wins.
    authors: ['Brunello, Nicolò', 'Rigamonti, Davide', 'Sassella, Andrea', 'Scotti, Vincenzo', 'Carman, Mark James'],
    year: 2025,
    title: 'InTraVisTo: Inside Transformer Visualisation Tool',
    venue: 'arXiv preprint',
    arxiv: '2507.13858',
  },
  {
    key: 'logit-lens',
    authors: ['nostalgebraist'],
    year: 2020,
    title: 'interpreting GPT: the logit lens',
    venue: 'LessWrong',
    url: 'https://www.lesswrong.com/posts/AcKRB8wDpdaN6v6ru/interpreting-gpt-the-logit-lens',
  },
  {
    key: 'tuned-lens',
    authors: ['Belrose, Nora', 'Furman, Zach', 'Smith, Logan', 'Halawi, Danny', 'Ostrovsky, Igor', 'McKinney, Lev', 'Biderman, Stella', 'Steinhardt, Jacob'],
    year: 2023,
    title: 'Eliciting Latent Predictions from Transformers with the Tuned Lens',
    venue: 'arXiv preprint',
    arxiv: '2303.08112',
  },
  {
    key: 'transformerlens',
    authors: ['Nanda, Neel', 'Bloom, Joseph'],
    year: 2022,
    title: 'TransformerLens',
    venue: 'GitHub repository',
    url: 'https://github.com/TransformerLensOrg/TransformerLens',
  },
  {
    key: 'lm-transparency-tool',
    authors: ['Tufanov, Igor', 'Hambardzumyan, Karen', 'Ferrando, Javier', 'Voita, Elena'],
    year: 2024,
    title: 'LM Transparency Tool: Interactive Tool for Analyzing Transformer Language Models',
    venue: 'ACL 2024 System Demonstrations, 51–60',
    arxiv: '2404.07004',
  },
  {
    key: 'attention-rollout',
    authors: ['Abnar, Samira', 'Zuidema, Willem'],
    year: 2020,
    title: 'Quantifying Attention Flow in Transformers',
    venue: 'ACL 2020, 4190–4197',
    doi: '10.18653/v1/2020.acl-main.385',
  },
  {
    key: 'grad-cam',
    authors: ['Selvaraju, Ramprasaath R.', 'Cogswell, Michael', 'Das, Abhishek', 'Vedantam, Ramakrishna', 'Parikh, Devi', 'Batra, Dhruv'],
    year: 2017,
    title: 'Grad-CAM: Visual Explanations from Deep Networks via Gradient-based Localization',
    venue: 'ICCV 2017, 618–626',
    arxiv: '1610.02391',
  },
  {
    key: 'word2vec',
    authors: ['Mikolov, Tomas', 'Chen, Kai', 'Corrado, Greg', 'Dean, Jeffrey'],
    year: 2013,
    title: 'Efficient Estimation of Word Representations in Vector Space',
    venue: 'arXiv preprint',
    arxiv: '1301.3781',
  },
  {
    key: 'word2vec-regularities',
    authors: ['Mikolov, Tomas', 'Yih, Wen-tau', 'Zweig, Geoffrey'],
    year: 2013,
    title: 'Linguistic Regularities in Continuous Space Word Representations',
    venue: 'NAACL-HLT 2013, 746–751',
    url: 'https://aclanthology.org/N13-1090/',
  },
  {
    key: 'glove',
    authors: ['Pennington, Jeffrey', 'Socher, Richard', 'Manning, Christopher D.'],
    year: 2014,
    title: 'GloVe: Global Vectors for Word Representation',
    venue: 'EMNLP 2014, 1532–1543',
    doi: '10.3115/v1/D14-1162',
  },
  {
    key: 'tinystories',
    authors: ['Eldan, Ronen', 'Li, Yuanzhi'],
    year: 2023,
    title: 'TinyStories: How Small Can Language Models Be and Still Speak Coherent English?',
    venue: 'arXiv preprint',
    arxiv: '2305.07759',
  },
  {
    key: 'llama2c',
    authors: ['Karpathy, Andrej'],
    year: 2023,
    title: 'llama2.c: Inference Llama 2 in one file of pure C',
    venue: 'GitHub repository',
    url: 'https://github.com/karpathy/llama2.c',
  },
  {
    key: 'mistral-7b',
    authors: ['Jiang, Albert Q.', 'Sablayrolles, Alexandre', 'Mensch, Arthur'],
    moreAuthors: true,
    year: 2023,
    title: 'Mistral 7B',
    venue: 'arXiv preprint',
    arxiv: '2310.06825',
  },
  {
    key: 'llama-2',
    authors: ['Touvron, Hugo', 'Martin, Louis', 'Stone, Kevin'],
    moreAuthors: true,
    year: 2023,
    title: 'Llama 2: Open Foundation and Fine-Tuned Chat Models',
    venue: 'arXiv preprint',
    arxiv: '2307.09288',
  },
  {
    key: 'gemma',
    authors: ['Gemma Team'],
    year: 2024,
    title: 'Gemma: Open Models Based on Gemini Research and Technology',
    venue: 'arXiv preprint',
    arxiv: '2403.08295',
  },
  {
    key: 'rope',
    authors: ['Su, Jianlin', 'Lu, Yu', 'Pan, Shengfeng', 'Murtadha, Ahmed', 'Wen, Bo', 'Liu, Yunfeng'],
    year: 2021,
    title: 'RoFormer: Enhanced Transformer with Rotary Position Embedding',
    venue: 'arXiv preprint',
    arxiv: '2104.09864',
  },
  {
    key: 'attention',
    authors: ['Vaswani, Ashish', 'Shazeer, Noam', 'Parmar, Niki', 'Uszkoreit, Jakob', 'Jones, Llion', 'Gomez, Aidan N.', 'Kaiser, Łukasz', 'Polosukhin, Illia'],
    year: 2017,
    title: 'Attention Is All You Need',
    venue: 'NeurIPS 2017',
    arxiv: '1706.03762',
  },
  {
    key: 'kendall-tau-b',
    authors: ['Kendall, Maurice G.'],
    year: 1945,
    title: 'The Treatment of Ties in Ranking Problems',
    venue: 'Biometrika 33(3), 239–251',
  },
  {
    key: 'scipy',
    authors: ['Virtanen, Pauli', 'Gommers, Ralf', 'Oliphant, Travis E.'],
    moreAuthors: true,
    year: 2020,
    title: 'SciPy 1.0: Fundamental Algorithms for Scientific Computing in Python',
    venue: 'Nature Methods 17, 261–272',
    doi: '10.1038/s41592-019-0686-2',
  },
];

const BY_KEY = new Map(BIBLIOGRAPHY.map((e) => [e.key, e]));

export function bibEntry(key: string): BibEntry {
  const e = BY_KEY.get(key);
  if (!e) throw new LenspressError('unknown-citation', `unknown citation key "${key}": expected one of ${[...BY_KEY.keys()].sort().join(', ')} (add new works to src/site/bibliography.ts)`);
  return e;
}

/** "a, b" → ["a", "b"]. */
export function splitKeys(keys: string): string[] {
  return keys
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
}

const family = (author: string) => author.split(',')[0].trim();

/** "Belrose et al.", "Abnar & Zuidema", "nostalgebraist". */
export function citeNames(e: BibEntry): string {
  const names = e.authors.map(family);
  if (names.length === 1 && !e.moreAuthors) return names[0];
  if (names.length === 2 && !e.moreAuthors) return `${names[0]} & ${names[1]}`;
  return `${names[0]} et al.`;
}

/** Year with a letter where another entry has the same names and year: 2013a, 2013b (list order). */
export function citeYear(e: BibEntry): string {
  const same = BIBLIOGRAPHY.filter((o) => o.year === e.year && citeNames(o) === citeNames(e));
  return same.length > 1 ? `${e.year}${String.fromCharCode(97 + same.indexOf(e))}` : String(e.year);
}

/** The anchor of an entry in a reference list. */
export const refId = (key: string) => `ref-${key}`;

/** The link of an entry: arXiv, else its DOI, else its page; undefined when it has none. */
export function entryUrl(e: BibEntry): string | undefined {
  if (e.arxiv) return `https://arxiv.org/abs/${e.arxiv}`;
  if (e.doi) return `https://doi.org/${e.doi}`;
  return e.url;
}

/** "Belrose, N., Furman, Z., & Smith, L." — initials of given names, "et al." when truncated. */
export function referenceAuthors(e: BibEntry): string {
  const names = e.authors.map((a) => {
    const [fam, given] = a.split(',').map((s) => s.trim());
    if (!given) return fam;
    const initials = given
      .split(/\s+/)
      .map((g) => g.split('-').map((part) => `${[...part][0]}.`).join('-'))
      .join(' ');
    return `${fam}, ${initials}`;
  });
  if (e.moreAuthors) return `${names.join(', ')}, et al.`;
  if (names.length === 1) return names[0];
  return `${names.slice(0, -1).join(', ')}${names.length > 2 ? ',' : ''} & ${names[names.length - 1]}`;
}

/** Entries in reference-list order: by first author's family name, then year (with its letter). */
export function sortEntries(entries: BibEntry[]): BibEntry[] {
  const sortKey = (e: BibEntry) => `${family(e.authors[0]).toLowerCase()}\u0000${citeYear(e)}`;
  return [...entries].sort((a, b) => sortKey(a).localeCompare(sortKey(b), 'en'));
}
