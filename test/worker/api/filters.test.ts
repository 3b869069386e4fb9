import { describe, expect, it } from 'vitest';
import { Tag } from '../../../shared/content/schema.ts';
import { fieldErrors } from '../../../shared/errors.ts';
import {
  listParam,
  MAX_FILTER_VALUES,
  metadataParams,
  metadataValues,
  TimeFrom,
  TimeTo,
  withMetadataParams,
} from '../../../workers/api/filters.ts';
import { z } from '../../../workers/api/openapi.ts';

const errorsOf = (schema: z.ZodType, value: unknown) => {
  const result = schema.safeParse(value);
  if (result.success) throw new Error(`expected a failure, got ${JSON.stringify(result.data)}`);
  return fieldErrors(result.error, 'query').map((e) => `${e.path}: ${e.message}`);
};

describe('time bounds', () => {
  it.each([
    ['2025-01-01', '2025-01-01T00:00:00.000Z', '2025-01-02T00:00:00.000Z'],
    ['2024-02-29', '2024-02-29T00:00:00.000Z', '2024-03-01T00:00:00.000Z'],
    ['2025-12-31', '2025-12-31T00:00:00.000Z', '2026-01-01T00:00:00.000Z'],
    ['2025-01-01T12:00:00Z', '2025-01-01T12:00:00.000Z', '2025-01-01T12:00:00.000Z'],
    ['2025-01-01T12:00:00.5+03:00', '2025-01-01T09:00:00.500Z', '2025-01-01T09:00:00.500Z'],
  ])('reads %s as from %s and to %s (exclusive)', (value, from, to) => {
    expect(TimeFrom.parse(value)).toBe(from);
    expect(TimeTo.parse(value)).toBe(to);
  });

  it.each([
    'yesterday',
    '',
    '2025-02-29',
    '2025-13-01',
    '2025-1-1',
    '20250101',
    '2025-01-01T12:00:00',
    '2025-01-01 12:00:00Z',
    '٢٠٢٥-٠١-٠١',
    '2025-01-01\u0000',
  ])('refuses %j, saying both forms', (value) => {
    for (const schema of [TimeFrom, TimeTo]) {
      expect(errorsOf(z.object({ t: schema }), { t: value })).toEqual([
        'query.t: must be an RFC 3339 date-time with an offset (2025-01-01T12:00:00Z) or a date (2025-01-01)',
      ]);
    }
  });
});

describe('list parameters', () => {
  const Tags = z.object({ tags: listParam(Tag) });
  it.each([
    ['a', ['a']],
    ['a,b', ['a', 'b']],
    [' a , ,B,', ['a', 'b']],
    [
      ['a', 'b,c'],
      ['a', 'b', 'c'],
    ],
    [
      ['مرحبا', '日本'],
      ['مرحبا', '日本'],
    ],
  ])('reads %j as %j', (value, tags) => {
    expect(Tags.parse({ tags }).tags).toEqual(tags);
    expect(Tags.parse({ tags: value }).tags).toEqual(tags);
  });

  it('refuses none, too many, or a bad value, naming its position', () => {
    expect(errorsOf(Tags, { tags: '' })).toEqual(['query.tags: must name at least one value']);
    expect(errorsOf(Tags, { tags: [',', ' '] })).toEqual([
      'query.tags: must name at least one value',
    ]);
    const many = Array.from({ length: MAX_FILTER_VALUES + 1 }, (_, i) => `t${i}`);
    expect(errorsOf(Tags, { tags: many.join(',') })).toEqual([
      `query.tags: must name at most ${MAX_FILTER_VALUES} values`,
    ]);
    expect(errorsOf(Tags, { tags: ['ok', 'x'.repeat(65)] })).toEqual([
      'query.tags.1: must be at most 64 characters',
    ]);
  });
});

describe('metadata parameters', () => {
  it.each([
    ['2024', [2024, '2024']],
    ['-1.5', [-1.5, '-1.5']],
    ['1e3', [1000, '1e3']],
    ['true', [true, 'true']],
    ['false', [false, 'false']],
    ['True', ['True']],
    ['007', ['007']],
    ['1e400', ['1e400']],
    ['1e21', ['1e21']],
    ['null', ['null']],
    ['north', ['north']],
    [' 1', [' 1']],
  ])('matches %j as %j', (text, values) => {
    expect(metadataValues(text)).toEqual(values);
  });

  const Query = withMetadataParams({ q: z.string().optional() });

  it('collects each field and the values it matches, repeated ones any of them', () => {
    const query = Query.parse({
      q: 'x',
      'meta.year': ['2024', '2024', '2025'],
      'meta.region': 'n',
    });
    expect(metadataParams(query)).toEqual({
      year: [2024, '2024', 2025, '2025'],
      region: ['n'],
    });
    expect(metadataParams(Query.parse({ q: 'x' }))).toBeUndefined();
  });

  it('refuses bad field names, empty or long values, too many fields and unknown names', () => {
    const fields = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`meta.f${i}`, '1']));
    expect(errorsOf(Query, fields)).toEqual(['query.meta: must name at most 10 fields']);
    expect(
      errorsOf(Query, {
        'meta.': '1',
        'meta.a-b': '1',
        'meta.x': '',
        'meta.y': 'v'.repeat(201),
        'meta.z': Array(21).fill('1'),
        qq: '1',
      }),
    ).toEqual([
      expect.stringMatching(/^query\.meta\.: must name a metadata field as meta\.<field>/),
      expect.stringMatching(/^query\.meta\.a-b: must name a metadata field/),
      'query.meta.x: must not be empty',
      'query.meta.y: must be at most 200 characters',
      'query.meta.z: must name at most 20 values',
      'query.qq: unknown parameter; accepted: q, meta.<field>',
    ]);
  });
});
