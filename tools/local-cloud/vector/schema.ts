import { z } from 'zod';
import { VectorError } from './errors.ts';

// Request bodies as the SDK (and Upstash's REST API) send them. `null` is accepted wherever a
// field is optional because other clients serialise absent fields that way.

const id = z
  .union([z.string(), z.number()], { error: 'expected string or number' })
  .transform(String);
const denseVector = z.array(z.number());
const sparseVector = z.object({
  indices: z.array(z.number().int()),
  values: z.array(z.number()),
});
const metadata = z.record(z.string(), z.unknown());
const flag = z.boolean().nullish();

export const upsertItem = z.object({
  id,
  vector: denseVector.nullish(),
  sparseVector: sparseVector.nullish(),
  metadata: metadata.nullish(),
  data: z.string().nullish(),
});

export const upsertDataItem = z.object({
  id,
  data: z.string(),
  metadata: metadata.nullish(),
});

export const query = z.object({
  vector: denseVector.nullish(),
  sparseVector: sparseVector.nullish(),
  data: z.string().nullish(),
  topK: z.number().int().min(0).nullish(),
  filter: z.string().nullish(),
  includeVectors: flag,
  includeMetadata: flag,
  includeData: flag,
  weightingStrategy: z.enum(['IDF']).nullish(),
  fusionAlgorithm: z.enum(['RRF', 'DBSF']).nullish(),
  queryMode: z.enum(['HYBRID', 'DENSE', 'SPARSE']).nullish(),
  // Resumable queries only: seconds of inactivity before the server forgets the query.
  maxIdle: z.number().min(0).nullish(),
});

export const include = z.object({
  includeVectors: flag,
  includeMetadata: flag,
  includeData: flag,
});

export const fetchBody = include.extend({
  ids: z.array(id).nullish(),
  prefix: z.string().nullish(),
});

export const range = include.extend({
  cursor: z
    .union([z.string(), z.number()], { error: 'expected string or number' })
    .transform(String),
  limit: z.number().int().min(0),
  prefix: z.string().nullish(),
});

export const deleteBody = z.object({
  ids: z.array(id).nullish(),
  prefix: z.string().nullish(),
  filter: z.string().nullish(),
});

export const update = z.object({
  id,
  vector: denseVector.nullish(),
  sparseVector: sparseVector.nullish(),
  data: z.string().nullish(),
  metadata: metadata.nullish(),
  metadataUpdateMode: z.enum(['PATCH', 'OVERWRITE']).nullish(),
});

export const resumeNext = z.object({ uuid: z.string(), additionalK: z.number().int().min(0) });
export const resumeEnd = z.object({ uuid: z.string() });

export type UpsertItem = z.output<typeof upsertItem>;
export type UpsertDataItem = z.output<typeof upsertDataItem>;
export type QueryInput = z.output<typeof query>;
export type IncludeInput = z.output<typeof include>;
export type FetchInput = z.output<typeof fetchBody>;
export type RangeInput = z.output<typeof range>;
export type DeleteInput = z.output<typeof deleteBody>;
export type UpdateInput = z.output<typeof update>;

/**
 * Validates `value`, turning the first problem into a 400 that names the field, e.g.
 * `Wrong input at 'vector[2]': expected number, received string`.
 */
export function parse<T extends z.ZodType>(schema: T, value: unknown, at = ''): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = formatPath(at, issue?.path ?? []);
  const where = path === '' ? 'the request body' : `'${path}'`;
  if (issue && issue.path.length > 0 && received(value, issue.path) === undefined) {
    throw new VectorError(400, `Missing required field ${where}`);
  }
  const detail = (issue?.message ?? 'invalid value')
    .replace(/^Invalid (?:input|option): /, '')
    .replace('expected record', 'expected object');
  throw new VectorError(400, `Wrong input at ${where}: ${detail}`);
}

function formatPath(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

function received(value: unknown, path: readonly PropertyKey[]): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}
