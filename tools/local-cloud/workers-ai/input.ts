import { invalidInput } from './errors.ts';
import type { LocalModel, Pooling } from './models.ts';
import { countTokens, truncateToTokens } from './tokens.ts';

/** Most texts (or contexts) in one request, as Workers AI's schemas for these models allow. */
export const MAX_INPUTS = 100;

/** A request body checked against the model's input schema, its texts ready to embed. */
export type EmbeddingRequest =
  | { kind: 'text'; texts: string[]; pooling: Pooling }
  | { kind: 'contexts'; query: string | undefined; contexts: string[] };

/**
 * Checks `body` the way Workers AI checks a model's input (its JSON schema), failing with a
 * 5006 whose message names the field by JSON pointer, e.g. `Error: required properties at '/'
 * are 'text'` or `Type mismatch of '/text/2', 'number' not in 'string'`. Texts longer than the
 * model's context are cut when `truncate_inputs` is true and refused otherwise (the default, as
 * on Workers AI). Unknown fields are ignored.
 */
export function parseEmbeddingRequest(body: unknown, model: LocalModel): EmbeddingRequest {
  if (!isObject(body)) throw mismatch('/', body, 'object');
  if ('requests' in body) {
    throw invalidInput(
      "Error: batched 'requests' (the asynchronous queue) are not supported by the local " +
        "Workers AI; send the texts in 'text'",
    );
  }
  const truncate = optional(body, 'truncate_inputs', 'boolean') ?? false;
  const hasText = 'text' in body;
  if (model.takesContexts && 'contexts' in body) {
    if (hasText) {
      throw invalidInput("Error: properties 'text' and 'contexts' at '/' exclude each other");
    }
    return parseContexts(body, model, truncate);
  }
  if (!hasText) throw invalidInput("Error: required properties at '/' are 'text'");
  const pooling = model.takesPooling ? parsePooling(body.pooling) : undefined;
  const text = body.text;
  let texts: { value: string; at: string }[];
  if (typeof text === 'string') texts = [{ value: text, at: '/text' }];
  else if (Array.isArray(text)) {
    checkCount('/text', text.length);
    texts = text.map((value, i) => {
      if (typeof value !== 'string') throw mismatch(`/text/${i}`, value, 'string');
      return { value, at: `/text/${i}` };
    });
  } else throw mismatch('/text', text, "'string', 'array'");
  return {
    kind: 'text',
    texts: texts.map(({ value, at }) => withinContext(value, at, model, truncate)),
    pooling: pooling ?? model.defaultPooling,
  };
}

function parseContexts(
  body: Record<string, unknown>,
  model: LocalModel,
  truncate: boolean,
): EmbeddingRequest {
  const query = optional(body, 'query', 'string');
  const contexts = body.contexts;
  if (!Array.isArray(contexts)) throw mismatch('/contexts', contexts, 'array');
  checkCount('/contexts', contexts.length);
  const texts = contexts.map((context, i) => {
    if (!isObject(context)) throw mismatch(`/contexts/${i}`, context, 'object');
    const text = optional(context, 'text', 'string', `/contexts/${i}/text`) ?? '';
    return withinContext(text, `/contexts/${i}/text`, model, truncate);
  });
  return {
    kind: 'contexts',
    query: query === undefined ? undefined : withinContext(query, '/query', model, truncate),
    contexts: texts,
  };
}

function parsePooling(value: unknown): Pooling | undefined {
  if (value === undefined) return undefined;
  if (value === 'mean' || value === 'cls') return value;
  throw invalidInput(
    `Error: '/pooling' must be one of 'mean', 'cls', got ${JSON.stringify(value)}`,
  );
}

/** The text itself, cut to the model's context when asked; a 5006 when too long otherwise. */
function withinContext(text: string, at: string, model: LocalModel, truncate: boolean): string {
  // Cheap bound first: a text has at most as many tokens as code units.
  if (text.length <= model.contextTokens) return text;
  const tokens = countTokens(text);
  if (tokens <= model.contextTokens) return text;
  if (truncate) return truncateToTokens(text, model.contextTokens);
  throw invalidInput(
    `Error: '${at}' is about ${tokens} tokens long, more than the ${model.contextTokens} ` +
      `${model.name} reads; set 'truncate_inputs' to true to cut it to fit`,
  );
}

function checkCount(at: string, count: number): void {
  if (count < 1) throw invalidInput(`Error: array at '${at}' has no items; at least 1 is required`);
  if (count > MAX_INPUTS) {
    throw invalidInput(
      `Error: array at '${at}' has ${count} items, more than the ${MAX_INPUTS} allowed`,
    );
  }
}

function optional<T extends 'string' | 'boolean'>(
  object: Record<string, unknown>,
  key: string,
  type: T,
  at = `/${key}`,
): (T extends 'string' ? string : boolean) | undefined {
  const value = object[key];
  if (value === undefined) return undefined;
  if (typeof value !== type) throw mismatch(at, value, type);
  return value as T extends 'string' ? string : boolean;
}

/** `Type mismatch of '/text', 'number' not in 'string', 'array'` (expected: quoted or bare). */
function mismatch(at: string, value: unknown, expected: string) {
  const list = expected.startsWith("'") ? expected : `'${expected}'`;
  return invalidInput(`Type mismatch of '${at}', '${jsonType(value)}' not in ${list}`);
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);
