import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { fieldErrors } from '../../../shared/errors.ts';
import { closestName, unknownKeyMessage } from '../../../shared/validation.ts';

/** What the validation hook would answer for `value`, as `path: message` lines. */
function errorsOf(schema: z.ZodType, value: unknown, prefix = 'body'): string[] {
  const result = schema.safeParse(value);
  if (result.success) throw new Error(`expected a failure, got ${JSON.stringify(result.data)}`);
  return fieldErrors(result.error, prefix).map((e) => `${e.path}: ${e.message}`);
}

describe('the error map', () => {
  it.each([
    [z.object({ a: z.string() }), {}, 'body.a: is required'],
    [z.object({ a: z.string() }), { a: null }, 'body.a: must not be null'],
    [z.object({ a: z.string() }), { a: 1 }, 'body.a: must be a string, not a number'],
    [z.object({ a: z.number() }), { a: '1' }, 'body.a: must be a number, not a string'],
    [z.object({ a: z.number().int() }), { a: 1.5 }, 'body.a: must be an integer'],
    [
      z.object({ a: z.boolean() }),
      { a: 'yes' },
      'body.a: must be a boolean (true or false), not a string',
    ],
    [z.object({ a: z.array(z.string()) }), { a: {} }, 'body.a: must be an array, not an object'],
    [z.object({ a: z.object({}) }), { a: [] }, 'body.a: must be an object, not an array'],
    [z.object({ a: z.coerce.number() }), { a: 'ten' }, 'body.a: must be a number'],
    [z.object({ a: z.string().min(1) }), { a: '' }, 'body.a: must not be empty'],
    [z.object({ a: z.string().min(3) }), { a: 'ab' }, 'body.a: must be at least 3 characters'],
    [
      z.object({ a: z.string().max(200) }),
      { a: 'x'.repeat(201) },
      'body.a: must be at most 200 characters',
    ],
    [z.object({ a: z.string().length(2) }), { a: 'x' }, 'body.a: must have exactly 2 characters'],
    [z.object({ a: z.array(z.string()).min(1) }), { a: [] }, 'body.a: must have at least 1 item'],
    [
      z.object({ a: z.array(z.string()).max(2) }),
      { a: ['', '', ''] },
      'body.a: must have at most 2 items',
    ],
    [z.object({ a: z.number().min(0) }), { a: -1 }, 'body.a: must be at least 0'],
    [z.object({ a: z.number().max(1_000) }), { a: 1_001 }, 'body.a: must be at most 1000'],
    [z.object({ a: z.number().gt(0) }), { a: 0 }, 'body.a: must be more than 0'],
    [z.object({ a: z.number().lt(1) }), { a: 1 }, 'body.a: must be less than 1'],
    [z.object({ a: z.number().multipleOf(5) }), { a: 7 }, 'body.a: must be a multiple of 5'],
    [z.object({ a: z.enum(['asc', 'desc']) }), { a: 'up' }, 'body.a: must be one of: asc, desc'],
    [z.object({ a: z.literal('x') }), { a: 'y' }, 'body.a: must be x'],
    [z.object({ a: z.email() }), { a: 'nope' }, 'body.a: must be an e-mail address'],
    [z.object({ a: z.url() }), { a: 'nope' }, 'body.a: must be a URL'],
    [
      z.object({ a: z.iso.datetime() }),
      { a: 'soon' },
      'body.a: must be an RFC 3339 date-time such as 2025-01-01T12:00:00Z',
    ],
    [
      z.object({ a: z.string().regex(/^a+$/) }),
      { a: 'b' },
      'body.a: must match the pattern /^a+$/',
    ],
    [z.object({ a: z.string().startsWith('x') }), { a: 'y' }, 'body.a: must start with "x"'],
    [
      z.object({ a: z.union([z.string(), z.number(), z.boolean()]) }),
      { a: {} },
      'body.a: must be a string, a number or a boolean (true or false)',
    ],
    [
      z.object({ a: z.union([z.string().max(2), z.number()]) }),
      { a: 'abc' },
      'body.a: must be at most 2 characters',
    ],
    [
      z.object({
        a: z.record(z.string().regex(/^[a-z]+$/, 'must be lower-case letters'), z.number()),
      }),
      { a: { B: 1 } },
      'body.a.B: has an invalid name: must be lower-case letters',
    ],
    [z.object({ a: z.string().refine(() => false) }), { a: 'x' }, 'body.a: is invalid'],
  ])('words %#: %j as %s', (schema, value, expected) => {
    expect(errorsOf(schema, value)).toEqual([expected]);
  });

  it("keeps a schema's own message", () => {
    const schema = z.object({ a: z.string().min(1, 'must say something') });
    expect(errorsOf(schema, { a: '' })).toEqual(['body.a: must say something']);
  });

  it('names each unknown key at its own path, with the names accepted', () => {
    const schema = z.strictObject({ title: z.string(), tags: z.array(z.string()) });
    expect(errorsOf(schema, { title: 'x', tags: [], colour: 1, size: 2 })).toEqual([
      'body.colour: unknown field; accepted: title, tags',
      'body.size: unknown field; accepted: title, tags',
    ]);
    expect(errorsOf(schema, { title: 'x', tags: [], tag: [] })).toEqual([
      'body.tag: unknown field (did you mean tags?); accepted: title, tags',
    ]);
    const nested = z.strictObject({ a: z.strictObject({ b: z.number() }) });
    expect(errorsOf(nested, { a: { b: 1, c: 2 } })).toEqual([
      'body.a.c: unknown field; accepted: b',
    ]);
    expect(
      errorsOf(z.strictObject({ limit: z.string() }), { limt: '1', limit: '1' }, 'query'),
    ).toEqual(['query.limt: unknown parameter (did you mean limit?); accepted: limit']);
  });
});

describe('closestName', () => {
  const accepted = ['q', 'locale', 'limit', 'cursor', 'tags', 'published_from', 'actor_type'];
  it.each([
    ['limt', 'limit'],
    ['LIMIT', 'limit'],
    ['tag', 'tags'],
    ['next_cursor', 'cursor'],
    ['cursors', 'cursor'],
    ['actor', 'actor_type'],
    ['published', 'published_from'],
    ['lcoale', 'locale'],
  ])('suggests %s → %s', (key, name) => {
    expect(closestName(key, accepted)).toBe(name);
  });

  it.each(['x', 'qq', 'colour', 'مرحبا', ''])('suggests nothing for %j', (key) => {
    expect(closestName(key, accepted)).toBeUndefined();
  });

  it('says when nothing is accepted', () => {
    expect(unknownKeyMessage('x', [])).toBe('unknown field; accepted: none');
  });
});
