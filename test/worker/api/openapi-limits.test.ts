import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Problem } from '../../../shared/errors.ts';
import { bearer, createMember, createTenant, tokenFor } from '../auth.ts';
import { call } from '../helpers.ts';

/**
 * Every limit the API enforces on what a client sends is in its OpenAPI document, and every
 * limit the document shows is enforced. Found by probing, not by reading the code: for each
 * input of each operation (body fields at any depth, array elements, map values, query and
 * header parameters) the test sends a value far past any plausible limit — a 300,000-character
 * string, a 10,000-element array, a 2,000-key object — and collects the field errors of the
 * `400`. An error that names a limit ("at most N", zod's `too_big`) must be documented at the
 * path it names: `maxLength`, `maxItems`, `maxProperties` or `maximum` holding N, or N in the
 * schema's description (a byte limit, which JSON Schema cannot say). Then, the other way: each
 * documented `maxLength` / `maxItems` / `maxProperties` is probed one past the limit, which
 * must be refused at that path.
 *
 * The probes come from an allow-listed address (no rate limit) as a super admin who owns an
 * organisation, with well-formed ids in paths: validation answers before anything is looked
 * up, so nothing is written.
 */

type Schema = {
  $ref?: string;
  type?: string | string[];
  description?: string;
  enum?: unknown[];
  const?: unknown;
  format?: string;
  maxLength?: number;
  maxItems?: number;
  maxProperties?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMaximum?: number;
  example?: unknown;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  additionalProperties?: Schema | boolean;
  propertyNames?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
};
type Parameter = { name: string; in: string; schema?: Schema; description?: string };
type Operation = {
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema?: Schema }> };
};
type Document = {
  paths: Record<string, Record<string, Operation> & { parameters?: Parameter[] }>;
  components?: { schemas?: Record<string, Schema> };
};

const LONG_STRING = 300_000;
const LONG_QUERY = 6_000;
const MANY_ITEMS = 10_000;
const MANY_KEYS = 2_000;
/** Values of a list in a query string (`tags=a0,a1,…`): about 12 KB. */
const MANY_VALUES = 2_000;
/** An address no other test calls from, allow-listed for this file. */
const PROBE_IP = '198.51.100.231';

/** A step into a value: a property, an array element, or a map's value. */
type Step = { property: string } | { element: true } | { value: true };
/** One place a client puts a value, how to reach it from the body root, and its schema. */
type Input = { steps: Step[]; schema: Schema; shapes: Shape[] };
/** Constants a branch of a union needs to be chosen (its discriminator), per depth. */
type Shape = { depth: number; fields: Record<string, unknown> };

let doc: Document;
let auth: Record<string, string>;
let ruleId: string;

function resolve(schema: Schema | undefined): Schema {
  let s = schema ?? {};
  while (s.$ref) s = doc.components?.schemas?.[s.$ref.split('/').at(-1)!] ?? {};
  return s;
}

const types = (s: Schema) => [s.type ?? []].flat();

/** Property values a schema fixes: `const`, or an enum of one value. */
function fixedFields(s: Schema): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const [name, child] of Object.entries(s.properties ?? {})) {
    const r = resolve(child);
    if (r.const !== undefined) fields[name] = r.const;
    else if (r.enum?.length === 1) fields[name] = r.enum[0];
  }
  return fields;
}

/** Every input under `schema`: each node once per path (recursive schemas stop at a repeat). */
function inputs(schema: Schema | undefined): Input[] {
  const found: Input[] = [];
  const walk = (raw: Schema | undefined, steps: Step[], shapes: Shape[], seen: Schema[]) => {
    const s = resolve(raw);
    if (seen.includes(s) || steps.length > 8) return;
    const branches = [...(s.anyOf ?? []), ...(s.oneOf ?? []), ...(s.allOf ?? [])];
    if (branches.length > 0) {
      for (const branch of branches) walk(branch, steps, shapes, [...seen, s]);
      if (!s.properties && !s.items && !s.additionalProperties) return;
    }
    const here = [...seen, s];
    found.push({ steps, schema: s, shapes });
    const own = fixedFields(s);
    const shaped = Object.keys(own).length
      ? [...shapes, { depth: steps.length, fields: own }]
      : shapes;
    for (const [name, child] of Object.entries(s.properties ?? {})) {
      walk(child, [...steps, { property: name }], shaped, here);
    }
    if (s.items) walk(s.items, [...steps, { element: true }], shaped, here);
    if (typeof s.additionalProperties === 'object') {
      walk(s.additionalProperties, [...steps, { value: true }], shaped, here);
    }
  };
  walk(schema, [], [], []);
  return found;
}

/** The first key of a map's example, if it has one. */
function exampleKey(map: Schema): string | undefined {
  const example = map.example;
  return example && typeof example === 'object' ? Object.keys(example)[0] : undefined;
}

/** A key a map accepts: the first key of its example (a category id, say), else a locale. */
function mapKey(map: Schema): string {
  return exampleKey(map) ?? 'en';
}

const ID_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

/**
 * `n` distinct keys a map accepts: ids of the kind its example shows (`cat_…`), else locales
 * (`en-1000`, `en-1001`, …: a language and a variant), which maps keyed by locale take.
 */
function manyKeys(map: Schema, n: number): string[] {
  const id = /^([a-z]+)_[0-9a-z]{26}$/.exec(exampleKey(map) ?? '');
  return Array.from({ length: n }, (_, i) => {
    if (!id) return `en-${1000 + i}`;
    let suffix = '';
    for (let rest = i, k = 0; k < 26; k++, rest = Math.floor(rest / 32)) {
      suffix = ID_ALPHABET[rest % 32] + suffix;
    }
    return `${id[1]}_${suffix}`;
  });
}

/**
 * The request body (or query value) that puts `leaf` at `steps`, with every union branch on
 * the way fixed by its constants. Returns the body and the error path of the leaf.
 */
function place(input: Input, leaf: unknown, parents: Schema[]): { body: unknown; path: string[] } {
  const path: string[] = [];
  const root: { v: unknown } = { v: undefined };
  let holder: Record<string | number, unknown> = root as never;
  let key: string | number = 'v';
  input.steps.forEach((step, depth) => {
    const shape = input.shapes.filter((s) => s.depth === depth).map((s) => s.fields);
    if ('property' in step) {
      const next: Record<string, unknown> = Object.assign({}, ...shape);
      holder[key] = next;
      holder = next;
      key = step.property;
      path.push(step.property);
    } else if ('element' in step) {
      const next: unknown[] = [];
      holder[key] = next;
      holder = next as never;
      key = 0;
      path.push('0');
    } else {
      const mapKeyName = mapKey(parents[depth]!);
      const next: Record<string, unknown> = {};
      holder[key] = next;
      holder = next;
      key = mapKeyName;
      path.push(mapKeyName);
    }
  });
  holder[key] = leaf;
  return { body: root.v, path };
}

/** The schemas along `steps` (the parent of each step). */
function parentsOf(root: Schema | undefined, input: Input): Schema[] {
  const parents: Schema[] = [];
  let s = resolve(root);
  const pick = (node: Schema, step: Step): Schema | undefined => {
    if ('property' in step && node.properties?.[step.property])
      return node.properties[step.property];
    if ('element' in step && node.items) return node.items;
    if ('value' in step && typeof node.additionalProperties === 'object') {
      return node.additionalProperties;
    }
    for (const branch of [...(node.anyOf ?? []), ...(node.oneOf ?? []), ...(node.allOf ?? [])]) {
      const found = pick(resolve(branch), step);
      if (found) return found;
    }
    return undefined;
  };
  const withMap = (node: Schema): Schema => {
    if (typeof node.additionalProperties === 'object') return node;
    for (const branch of [...(node.anyOf ?? []), ...(node.oneOf ?? []), ...(node.allOf ?? [])]) {
      const found = withMap(resolve(branch));
      if (typeof found.additionalProperties === 'object') return found;
    }
    return node;
  };
  for (const step of input.steps) {
    parents.push(withMap(s));
    s = resolve(pick(s, step));
  }
  return parents;
}

/** Numbers the rule of a message names ("at most 1,000 characters" → 1000). */
function limitsIn(text: string): number[] {
  return [...text.matchAll(/\d[\d,]*/g)].map((m) => Number(m[0].replaceAll(',', '')));
}

const isLimitError = (e: { message: string; code?: string }) =>
  e.code === 'too_big' || /\bat most\b|\bless than\b|\btoo (long|many|large)\b/.test(e.message);

/** The schema at an error path of a body (`body.translations.en.title`), for the check. */
function schemaAt(root: Schema | undefined, path: string[]): Schema | undefined {
  let candidates = [resolve(root)];
  for (const segment of path) {
    const next: Schema[] = [];
    const expand = (s: Schema) => {
      for (const b of [...(s.anyOf ?? []), ...(s.oneOf ?? []), ...(s.allOf ?? [])]) {
        expand(resolve(b));
      }
      if (s.properties?.[segment]) next.push(resolve(s.properties[segment]));
      if (/^\d+$/.test(segment) && s.items) next.push(resolve(s.items));
      if (typeof s.additionalProperties === 'object' && !s.properties?.[segment]) {
        next.push(resolve(s.additionalProperties));
      }
    };
    candidates.forEach(expand);
    if (next.length === 0) return undefined;
    candidates = next;
  }
  // A union: the branch that says most.
  return candidates.sort((a, b) => JSON.stringify(b).length - JSON.stringify(a).length)[0];
}

/** The limits a schema documents (its own and its branches'), and its descriptions. */
function documented(s: Schema | undefined): { numbers: number[]; text: string } {
  const numbers: number[] = [];
  let text = '';
  const visit = (node: Schema | undefined) => {
    const r = resolve(node);
    for (const n of [r.maxLength, r.maxItems, r.maxProperties, r.maximum, r.exclusiveMaximum]) {
      if (n !== undefined) numbers.push(n);
    }
    text += ` ${r.description ?? ''}`;
    for (const b of [...(r.anyOf ?? []), ...(r.oneOf ?? []), ...(r.allOf ?? [])]) visit(b);
  };
  visit(s);
  return { numbers, text };
}

function isDocumented(s: Schema | undefined, message: string): boolean {
  const { numbers, text } = documented(s);
  const inText = limitsIn(text);
  const named = limitsIn(message);
  // A rule that names no number ("must be a cursor from a previous page") needs some limit shown.
  if (named.length === 0) return numbers.length > 0;
  return named.some((n) => numbers.includes(n) || inText.includes(n));
}

type Probe = {
  route: string;
  where: string;
  send: () => Promise<Response>;
  /** The schema of the request part, to find an error path's schema in. */
  root: Schema | undefined;
  prefix: 'body' | 'query' | 'header';
};

/** A concrete URL for a path template: each parameter's example (well-formed ids). */
function concrete(path: string, parameters: Parameter[]): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const p = parameters.find((x) => x.in === 'path' && x.name === name);
    return encodeURIComponent(String(sample(p?.schema)));
  });
}

function request(
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  return call(url, {
    method: method.toUpperCase(),
    headers: {
      ...auth,
      'CF-Connecting-IP': PROBE_IP,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/**
 * A small value `schema` accepts, as far as the document tells: its example, its first allowed
 * value, or one built from its required properties. Array elements and map values are made of
 * these, so that a rule over the whole array or map (which runs only once its elements are
 * valid) is reached.
 */
function sample(raw: Schema | undefined, depth = 0): unknown {
  const s = resolve(raw);
  if (s.example !== undefined) return s.example;
  if (s.const !== undefined) return s.const;
  if (s.enum?.length) return s.enum[0];
  const branches = [...(s.anyOf ?? []), ...(s.oneOf ?? [])].filter(
    (b) => !types(resolve(b)).includes('null'),
  );
  if (branches.length > 0) return sample(branches[0], depth + 1);
  const t = types(s);
  if (t.includes('string')) {
    if (s.format === 'date-time') return new Date().toISOString();
    if (s.format === 'email') return 'probe@example.com';
    return 'a';
  }
  if (t.includes('integer') || t.includes('number')) return s.minimum ?? 1;
  if (t.includes('boolean')) return true;
  if (t.includes('array')) return [];
  if (depth > 6) return {};
  return Object.fromEntries(
    (s.required ?? []).map((name) => [name, sample(s.properties?.[name], depth + 1)]),
  );
}

/** The `i`-th element of an oversized array: a sample, made distinct where it is a string. */
function distinct(items: Schema | undefined, i: number): unknown {
  const value = sample(items);
  return typeof value === 'string' && !resolve(items).enum ? `${value}${i}` : value;
}

/** The array branch of a query parameter that takes one value or several (`tags=a,b`). */
function listBranch(s: Schema): Schema | undefined {
  return [...(s.anyOf ?? []), ...(s.oneOf ?? [])]
    .map(resolve)
    .find((b) => types(b).includes('array'));
}

/** What to send to make `schema` too big, or undefined when it has no size (a number, a bool). */
function oversized(s: Schema, query: boolean): unknown {
  const list = listBranch(s);
  if (query && list) return Array.from({ length: MANY_VALUES }, (_, i) => `a${i}`).join(',');
  const t = types(s);
  if (t.includes('string') && !s.enum) return 'a'.repeat(query ? LONG_QUERY : LONG_STRING);
  if (query) return undefined;
  if (t.includes('array'))
    return Array.from({ length: MANY_ITEMS }, (_, i) => distinct(s.items, i));
  if (typeof s.additionalProperties === 'object') {
    return Object.fromEntries(
      manyKeys(s, MANY_KEYS).map((k) => [k, sample(s.additionalProperties as Schema)]),
    );
  }
  return undefined;
}

/** One past the documented limit, or undefined when the schema documents none. */
function justOver(s: Schema, query: boolean): unknown {
  const list = listBranch(s);
  if (query && list?.maxItems !== undefined) {
    return Array.from({ length: list.maxItems + 1 }, (_, i) => `a${i}`).join(',');
  }
  if (s.maxLength !== undefined) return 'a'.repeat(s.maxLength + 1);
  if (s.maxItems !== undefined) {
    return Array.from({ length: s.maxItems + 1 }, (_, i) => distinct(s.items, i));
  }
  if (s.maximum !== undefined && (types(s).includes('integer') || types(s).includes('number'))) {
    return types(s).includes('integer') ? s.maximum + 1 : s.maximum * 1.5 + 1;
  }
  if (s.maxProperties !== undefined) {
    return Object.fromEntries(
      manyKeys(s, s.maxProperties + 1).map((k) => [k, sample(s.additionalProperties as Schema)]),
    );
  }
  return undefined;
}

function probes(make: (s: Schema, query: boolean) => unknown): Probe[] {
  const all: Probe[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(item) as [string, Operation][]) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      const parameters = [...(item.parameters ?? []), ...(operation.parameters ?? [])];
      const url = concrete(path, parameters);
      const route = `${method.toUpperCase()} ${path}`;
      for (const p of parameters) {
        if (p.in !== 'query' && p.in !== 'header') continue;
        const s = resolve(p.schema);
        const value = make(s, true);
        if (typeof value !== 'string') continue;
        const root: Schema = { type: 'object', properties: { [p.name]: s } };
        all.push({
          route,
          where: `${p.in}.${p.name}`,
          root,
          prefix: p.in === 'query' ? 'query' : 'header',
          send: () =>
            p.in === 'query'
              ? request(method, `${url}?${new URLSearchParams({ [p.name]: value })}`)
              : request(method, url, undefined, { [p.name]: value }),
        });
      }
      const body = operation.requestBody?.content['application/json']?.schema;
      if (!body) continue;
      for (const input of inputs(body)) {
        if (input.steps.length === 0) continue;
        const value = make(input.schema, false);
        if (value === undefined) continue;
        const parents = parentsOf(body, input);
        const { body: sent, path: at } = place(input, value, parents);
        all.push({
          route,
          where: `body.${at.join('.')}`,
          root: body,
          prefix: 'body',
          send: () => request(method, url, sent),
        });
      }
    }
  }
  return all;
}

/** Runs `probes` a few at a time; returns each with the field errors of its answer. */
async function run(list: Probe[]) {
  const results: { probe: Probe; status: number; errors: NonNullable<Problem['errors']> }[] = [];
  for (let i = 0; i < list.length; i += 8) {
    await Promise.all(
      list.slice(i, i + 8).map(async (probe) => {
        const response = await probe.send();
        const body = (await response.json().catch(() => ({}))) as Problem & {
          results?: { problem: Problem | null }[];
        };
        // A bulk request refuses its items one by one, each with its own problem.
        const items = (body.results ?? []).flatMap((r) => r.problem?.errors ?? []);
        results.push({
          probe,
          status: response.status,
          errors: [...(body.errors ?? []), ...items],
        });
      }),
    );
  }
  return results;
}

beforeAll(async () => {
  const tenant = await createTenant('limits');
  const admin = await createMember(tenant.orgId, 'owner', { superAdmin: true });
  auth = bearer((await tokenFor(admin)).token);
  doc = (await (await call('/openapi.json')).json()) as Document;
  const rule = await request('post', '/v1/admin/access-rules', {
    list: 'allow',
    subject_type: 'ip',
    value: PROBE_IP,
    reason: 'OpenAPI limits probe: no rate limit',
  });
  expect(rule.status).toBe(201);
  ruleId = ((await rule.json()) as { id: string }).id;
});

afterAll(async () => {
  if (ruleId) await request('delete', `/v1/admin/access-rules/${ruleId}`);
});

describe('the limits of the OpenAPI document', () => {
  it('shows every limit the API enforces, at the field it applies to', async () => {
    const list = probes(oversized);
    expect(list.length).toBeGreaterThan(100);
    const results = await run(list);
    const undocumented = new Set<string>();
    let limits = 0;
    for (const { probe, errors } of results) {
      for (const error of errors.filter(isLimitError)) {
        limits++;
        const path = error.path.split('.');
        if (path[0] !== probe.prefix) continue;
        if (!isDocumented(schemaAt(probe.root, path.slice(1)), error.message)) {
          undocumented.add(`${probe.route} ${error.path}: ${error.message}`);
        }
      }
    }
    // The probes do reach the limits (a broken probe would find none and pass).
    expect(limits).toBeGreaterThan(50);
    expect([...undocumented].sort()).toEqual([]);
  });

  it('enforces every limit it shows', async () => {
    const list = probes((s, query) => {
      const value = justOver(s, query);
      if (!query) return value;
      return typeof value === 'number'
        ? String(value)
        : typeof value === 'string'
          ? value
          : undefined;
    });
    expect(list.length).toBeGreaterThan(30);
    const results = await run(list);
    const unenforced = results
      .filter(
        ({ probe, status, errors }) =>
          // A bulk request whose items are all refused is a 422 holding their 400s.
          (status !== 400 && !(probe.route === 'POST /v1/content/bulk' && status === 422)) ||
          !errors.some((e) => e.path === probe.where || e.path.startsWith(`${probe.where}.`)),
      )
      .map(
        ({ probe, status, errors }) =>
          `${probe.route} ${probe.where}: ${status} ${errors.map((e) => e.path).join(', ')}`,
      );
    expect(unenforced.sort()).toEqual([]);
  });
});
