/**
 * Relation sets for the analogy evaluation (methods.md §6): plain JSON data, one file per
 * relation, each a list of [a, b] word pairs in natural case ("France", "Paris"). A model's
 * vocabulary is looked up case-sensitively; uncased word vectors lower-case the word.
 */
import capitalOf from './capital-of.json' with { type: 'json' };
import comparative from './comparative.json' with { type: 'json' };
import maleFemale from './male-female.json' with { type: 'json' };
import pastTense from './past-tense.json' with { type: 'json' };
import plural from './plural.json' with { type: 'json' };

export interface RelationSet {
  name: string;
  description: string;
  pairs: [string, string][];
}

export const RELATIONS: Record<string, RelationSet> = Object.fromEntries(
  [capitalOf, maleFemale, plural, comparative, pastTense].map((r) => [r.name, r as RelationSet]),
);
