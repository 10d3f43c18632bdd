/**
 * Documentation read off a zod object schema at run time: one row per field with its type,
 * allowed values, default, whether it is required and its `.describe()` text. The about page
 * renders these rows, so the documented props are the validated props — nothing is retyped.
 *
 * Descriptions: zod keeps `.describe()` on the node it was called on and copies it outward
 * through `.optional()` / `.default()`, but not through `.refine()`; so the walk takes the
 * outermost description it meets while unwrapping.
 */
import { z } from 'zod';

export interface FieldDoc {
  name: string;
  /** Human-readable type: "string (non-empty)", "integer 1–20", "one of", "string[]". */
  type: string;
  /** The allowed values of an enum or a union of literals. */
  values?: string[];
  /** Whether a value is shown as the default (the value itself may be `undefined`-free falsy: 0, ''). */
  hasDefault: boolean;
  default?: unknown;
  /** Neither optional nor defaulted: the author must give it. */
  required: boolean;
  description?: string;
}

/** The object schema inside wrappers (`.strict()` keeps a ZodObject; `.refine()` on the object wraps it). */
export function objectShape(schema: z.ZodTypeAny): Record<string, z.ZodTypeAny> {
  let s: z.ZodTypeAny = schema;
  while (s instanceof z.ZodEffects) s = s.innerType();
  if (!(s instanceof z.ZodObject)) throw new Error(`expected a zod object schema, found ${s._def.typeName}`);
  return s.shape as Record<string, z.ZodTypeAny>;
}

/** One row per field, in declaration order. */
export function describeSchema(schema: z.ZodTypeAny): FieldDoc[] {
  return Object.entries(objectShape(schema)).map(([name, field]) => describeField(name, field));
}

export function describeField(name: string, field: z.ZodTypeAny): FieldDoc {
  let s = field;
  let description: string | undefined;
  let optional = false;
  let hasDefault = false;
  let def: unknown;
  // Peel wrappers outermost first: the first description met is the author-facing one.
  for (;;) {
    description ??= s.description;
    if (s instanceof z.ZodOptional || s instanceof z.ZodNullable) {
      optional = true;
      s = s.unwrap();
    } else if (s instanceof z.ZodDefault) {
      if (!hasDefault) {
        hasDefault = true;
        def = s._def.defaultValue();
      }
      s = s.removeDefault();
    } else if (s instanceof z.ZodEffects) {
      s = s.innerType();
    } else break;
  }
  const { type, values } = describeType(s);
  return { name, type, ...(values ? { values } : {}), hasDefault, ...(hasDefault ? { default: def } : {}), required: !optional && !hasDefault, ...(description ? { description } : {}) };
}

function describeType(s: z.ZodTypeAny): { type: string; values?: string[] } {
  if (s instanceof z.ZodEnum) return { type: 'one of', values: (s.options as string[]).map(String) };
  if (s instanceof z.ZodNativeEnum) return { type: 'one of', values: Object.values(s.enum as Record<string, string | number>).map(String) };
  if (s instanceof z.ZodLiteral) return { type: 'one of', values: [String(s.value)] };
  if (s instanceof z.ZodUnion) {
    const options = s.options as z.ZodTypeAny[];
    if (options.every((o) => o instanceof z.ZodLiteral)) return { type: 'one of', values: options.map((o) => String((o as z.ZodLiteral<unknown>).value)) };
    return { type: options.map((o) => describeType(unwrapAll(o)).type).join(' | ') };
  }
  if (s instanceof z.ZodString) return { type: stringType(s) };
  if (s instanceof z.ZodNumber) return { type: numberType(s) };
  if (s instanceof z.ZodBoolean) return { type: 'boolean' };
  if (s instanceof z.ZodDate) return { type: 'date' };
  if (s instanceof z.ZodArray) {
    const inner = describeType(unwrapAll(s.element));
    return { type: inner.values ? `array of ${inner.values.join(' | ')}` : `${inner.type.split(' ')[0]}[]` };
  }
  if (s instanceof z.ZodObject || s instanceof z.ZodRecord) return { type: 'object' };
  return { type: String(s._def.typeName ?? 'value').replace(/^Zod/, '').toLowerCase() };
}

function unwrapAll(s: z.ZodTypeAny): z.ZodTypeAny {
  for (;;) {
    if (s instanceof z.ZodOptional || s instanceof z.ZodNullable) s = s.unwrap();
    else if (s instanceof z.ZodDefault) s = s.removeDefault();
    else if (s instanceof z.ZodEffects) s = s.innerType();
    else return s;
  }
}

function stringType(s: z.ZodString): string {
  const notes: string[] = [];
  for (const c of s._def.checks) {
    if (c.kind === 'min' && c.value === 1) notes.push('non-empty');
    else if (c.kind === 'min') notes.push(`at least ${c.value} characters`);
    else if (c.kind === 'max') notes.push(`at most ${c.value} characters`);
    else if (c.kind === 'regex') notes.push(`matching ${c.regex}`);
    else if (c.kind === 'url') notes.push('a URL');
  }
  return notes.length ? `string (${notes.join(', ')})` : 'string';
}

function numberType(s: z.ZodNumber): string {
  let min: { value: number; inclusive: boolean } | undefined;
  let max: { value: number; inclusive: boolean } | undefined;
  let int = false;
  for (const c of s._def.checks) {
    if (c.kind === 'int') int = true;
    else if (c.kind === 'min') min = c;
    else if (c.kind === 'max') max = c;
  }
  const base = int ? 'integer' : 'number';
  // U+2212 for negative bounds and an en dash for ranges, as typeset elsewhere on the site.
  const n = (v: number) => String(v).replace('-', '\u2212');
  // An exclusive bound on an integer is the next integer inclusive: int().positive() is "≥ 1".
  const lo = min && (min.inclusive ? min.value : int ? min.value + 1 : undefined);
  const hi = max && (max.inclusive ? max.value : int ? max.value - 1 : undefined);
  const loText = lo !== undefined ? `\u2265 ${n(lo)}` : min ? `> ${n(min.value)}` : undefined;
  const hiText = hi !== undefined ? `\u2264 ${n(hi)}` : max ? `< ${n(max.value)}` : undefined;
  if (lo !== undefined && hi !== undefined) return `${base} ${n(lo)}\u2013${n(hi)}`;
  return [base, loText, hiText].filter(Boolean).join(' ');
}

/** A default as authors would write it: `model`, `5`, `false`, `""`. */
export function formatDefault(v: unknown): string {
  if (typeof v === 'string') return v === '' ? '""' : v;
  if (v instanceof Date) return v.toISOString().slice(0, 10);
  return JSON.stringify(v);
}
