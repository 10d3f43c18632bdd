import { createHash } from 'node:crypto';

/** A stable id for a figure from its props: the same article always links the same way. */
export function figureId(kind: string, props: unknown): string {
  return `${kind}-${createHash('sha256').update(JSON.stringify(props)).digest('hex').slice(0, 8)}`;
}
