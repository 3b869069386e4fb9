import { describe, expect, it } from 'vitest';
import { INT4_MAX, INT4_MIN } from '../../../shared/db/integers.ts';
import { call } from '../helpers.ts';

type Schema = {
  $ref?: string;
  type?: string | string[];
  minimum?: number;
  maximum?: number;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema | boolean;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
};
type Operation = {
  parameters?: { name: string; in: string; schema?: Schema }[];
  requestBody?: { content: Record<string, { schema?: Schema }> };
};
type Document = {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
};

/**
 * Numbers a client may send that reach no column: they are compared, never stored, so any finite
 * number is fine. Each entry says why.
 */
const UNBOUNDED_NUMBERS: Record<string, string> = {
  // Compared with the numbers of stored metadata (a jsonb containment, an index filter).
  'POST /v1/search body.filters.metadata.*': 'a filter value, compared with stored metadata',
  'POST /v1/search body.filters.metadata.*[]': 'one of several filter values, likewise',
  // A flag rule's condition value is compared with a context attribute, kept in jsonb.
  'POST /v1/flags body.rules[].conditions[].value': 'a condition value, compared with attributes',
  'POST /v1/flags body.rules[].conditions[].value[]': 'one of an in / not_in list, likewise',
  'PATCH /v1/flags/{key} body.rules[].conditions[].value': 'a condition value, likewise',
  'PATCH /v1/flags/{key} body.rules[].conditions[].value[]': 'one of a list, likewise',
  // An evaluation context's attributes are compared with conditions, never stored.
  'POST /v1/flags/evaluate body.context.*': 'a context attribute, compared with conditions',
};

/** Every numeric input of the document: where it is, and its schema. */
function numericInputs(doc: Document): { where: string; schema: Schema }[] {
  const components = doc.components?.schemas ?? {};
  const found: { where: string; schema: Schema }[] = [];
  const walk = (schema: Schema | boolean | undefined, where: string, seen: Set<Schema>) => {
    if (typeof schema !== 'object') return;
    let s = schema;
    while (s.$ref) s = components[s.$ref.split('/').at(-1)!] ?? {};
    if (seen.has(s)) return;
    seen.add(s);
    const types = [s.type ?? []].flat();
    if (types.includes('integer') || types.includes('number')) found.push({ where, schema: s });
    for (const [name, child] of Object.entries(s.properties ?? {})) {
      walk(child, `${where}.${name}`, seen);
    }
    walk(s.items, `${where}[]`, seen);
    walk(s.additionalProperties, `${where}.*`, seen);
    for (const child of [...(s.anyOf ?? []), ...(s.oneOf ?? []), ...(s.allOf ?? [])]) {
      walk(child, where, seen);
    }
  };
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const route = `${method.toUpperCase()} ${path}`;
      for (const parameter of operation.parameters ?? []) {
        walk(parameter.schema, `${route} ${parameter.in}.${parameter.name}`, new Set());
      }
      for (const media of Object.values(operation.requestBody?.content ?? {})) {
        walk(media.schema, `${route} body`, new Set());
      }
    }
  }
  return found;
}

describe('numbers a client sends', () => {
  it('are all bounded to the range of the column they reach (int4 for integers)', async () => {
    const doc = (await (await call('/openapi.json')).json()) as Document;
    const inputs = numericInputs(doc);
    // The audit found the version numbers, the page sizes and the key and search settings.
    expect(inputs.map((i) => i.where)).toContain(
      'GET /v1/content/{id}/versions/{version} path.version',
    );
    expect(inputs.length).toBeGreaterThan(20);
    const unbounded = inputs.filter(({ where, schema }) => {
      if (where in UNBOUNDED_NUMBERS) return false;
      const { minimum, maximum } = schema;
      const integer = [schema.type ?? []].flat().includes('integer');
      if (minimum === undefined || maximum === undefined) return true;
      return integer && (minimum < INT4_MIN || maximum > INT4_MAX);
    });
    expect(
      unbounded.map(({ where, schema }) => `${where}: ${schema.minimum}..${schema.maximum}`),
    ).toEqual([]);
    for (const where of Object.keys(UNBOUNDED_NUMBERS)) {
      expect(
        inputs.map((i) => i.where),
        `${where} is still an input`,
      ).toContain(where);
    }
  });
});
