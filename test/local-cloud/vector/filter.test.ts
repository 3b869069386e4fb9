import type { Index } from '@upstash/vector';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VectorService } from '../../../tools/local-cloud/vector/index.ts';
import { raw, sdk, startTestVector } from './harness.ts';

// The metadata of Upstash's filtering docs, plus neighbours that differ in one way each.
const cities = {
  istanbul: {
    city: 'Istanbul',
    country: 'Turkey',
    is_capital: false,
    population: 15460000,
    geography: { continent: 'Asia', coordinates: { latitude: 41.0082, longitude: 28.9784 } },
    economy: { currency: 'TRY', major_industries: ['Tourism', 'Textiles', 'Finance'] },
  },
  ankara: {
    city: 'Ankara',
    country: 'Turkey',
    is_capital: true,
    population: 5663322,
    geography: { continent: 'Asia', coordinates: { latitude: 39.9334, longitude: 32.8597 } },
    economy: { currency: 'TRY', major_industries: ['Government', 'Defense'] },
  },
  berlin: {
    city: 'Berlin',
    country: 'Germany',
    is_capital: true,
    population: 3850809,
    geography: { continent: 'Europe', coordinates: { latitude: 52.52, longitude: 13.405 } },
    economy: { currency: 'EUR', major_industries: ['Technology', 'Tourism'] },
  },
  paris: {
    city: 'Paris',
    country: 'France',
    is_capital: true,
    population: 2102650,
    geography: { continent: 'Europe' },
    economy: { currency: 'EUR', major_industries: ['Tourism', 'Fashion', 'Finance'] },
  },
  izmir: {
    city: 'Izmir',
    country: 'Turkey',
    is_capital: false,
    population: 4479525,
    geography: { continent: 'Asia' },
    economy: { currency: 'TRY' },
    note: `it's "quoted"`,
    'kebab-key': -1.5,
  },
};

describe('metadata filters', () => {
  let service: VectorService;
  let index: Index;

  beforeAll(async () => {
    service = await startTestVector({ kind: 'dense', dimension: 2 });
    index = sdk(service);
    // Identical vectors: every query returns every match, so results are exactly the filter.
    await index.upsert(
      Object.entries(cities).map(([id, metadata]) => ({ id, vector: [1, 0], metadata })),
    );
  });
  afterAll(() => service.close());

  async function matching(filter: string): Promise<string[]> {
    const results = await index.query({ vector: [1, 0], topK: 100, filter });
    return results.map((r) => String(r.id)).sort();
  }

  const cases: [string, string[]][] = [
    // The docs' examples, operator by operator.
    ["country = 'Turkey' AND population = 15460000 AND is_capital = false", ['istanbul']],
    [
      "country != 'Germany' AND population != 5663322 AND is_capital != true",
      ['istanbul', 'izmir'],
    ],
    ['population < 3850809', ['paris']],
    ['population <= 3850809', ['berlin', 'paris']],
    ['population > 5663322', ['istanbul']],
    ['population >= 5663322', ['ankara', 'istanbul']],
    ['geography.coordinates.longitude < 30.0', ['berlin', 'istanbul']],
    ['geography.coordinates.latitude >= 41.0082', ['berlin', 'istanbul']],
    ["city GLOB '?[sz]*[^m-z]'", ['istanbul']],
    ["city NOT GLOB 'A*'", ['berlin', 'istanbul', 'izmir', 'paris']],
    ["city GLOB '*r?s'", ['paris']],
    ["city GLOB 'i*'", []],
    ["country IN ('Germany', 'France')", ['berlin', 'paris']],
    ["economy.currency NOT IN ('TRY')", ['berlin', 'paris']],
    ["economy.major_industries CONTAINS 'Tourism'", ['berlin', 'istanbul', 'paris']],
    // Izmir has no industries array, so it neither contains nor lacks 'Tourism'.
    ["economy.major_industries NOT CONTAINS 'Tourism'", ['ankara']],
    ['HAS FIELD geography.coordinates', ['ankara', 'berlin', 'istanbul']],
    ['HAS NOT FIELD geography.coordinates.longitude', ['izmir', 'paris']],
    // AND binds tighter than OR; parentheses override.
    [
      "country = 'Turkey' AND population > 10000000 OR is_capital = true",
      ['ankara', 'berlin', 'istanbul', 'paris'],
    ],
    ["country = 'Turkey' AND (population > 10000000 OR is_capital = true)", ['ankara', 'istanbul']],
    ["((city = 'Paris')) OR (city = 'Berlin' AND (country = 'Germany'))", ['berlin', 'paris']],
    // Array elements by index, from the front and from the back.
    ["economy.major_industries[0] = 'Tourism'", ['istanbul', 'paris']],
    ["economy.major_industries[1] = 'Tourism'", ['berlin']],
    ["economy.major_industries[#-1] = 'Finance'", ['istanbul', 'paris']],
    ["economy.major_industries[#-3] = 'Tourism'", ['istanbul', 'paris']],
    ["economy.major_industries[5] = 'Tourism'", []],
    // Case-insensitive keywords and boolean literals, double quotes, 1/0 booleans.
    ['country = "France" or is_capital = TRUE', ['ankara', 'berlin', 'paris']],
    ["city in ('Izmir') and NOT_A_FIELD not in ('x') or city = 'Ankara'", ['ankara']],
    ['is_capital = 1', ['ankara', 'berlin', 'paris']],
    ['is_capital = 0', ['istanbul', 'izmir']],
    // Escapes in string literals, dashes in keys, negative numbers, line breaks.
    [`note = 'it\\'s "quoted"'`, ['izmir']],
    ['kebab-key = -1.5', ['izmir']],
    ["country = 'Turkey'\n  AND population < 5000000", ['izmir']],
    // Comparisons never match values of another type.
    ['population > 0 AND city < 5', []],
    ["population = '15460000'", []],
    ['city != 5', ['ankara', 'berlin', 'istanbul', 'izmir', 'paris']],
    ['missing != 5', []],
  ];

  for (const [filter, expected] of cases) {
    it(`filters ${JSON.stringify(filter)}`, async () => {
      expect(await matching(filter)).toEqual(expected);
    });
  }

  it('treats an empty filter as no filter', async () => {
    expect(await matching('')).toHaveLength(5);
  });

  const errors: [string, string][] = [
    // Seen from Upstash in a public bug report for exactly this filter.
    [
      "category IN ['Bras', 'Shapewear']",
      "Invalid filter. At line 1:12 token recognition error at: '['",
    ],
    ['population >', "Invalid filter. At line 1:12 mismatched input '<EOF>' expecting NUMBER"],
    ["population > '5'", "Invalid filter. At line 1:13 mismatched input ''5'' expecting NUMBER"],
    [
      'country = ',
      "Invalid filter. At line 1:10 mismatched input '<EOF>' expecting {STRING, NUMBER, BOOLEAN}",
    ],
    [
      "country = 'Turkey' AND",
      "Invalid filter. At line 1:22 mismatched input '<EOF>' expecting {'(', 'HAS', IDENTIFIER}",
    ],
    [
      "(country = 'Turkey'",
      "Invalid filter. At line 1:19 mismatched input '<EOF>' expecting {'AND', 'OR', ')'}",
    ],
    [
      "country 'Turkey'",
      "Invalid filter. At line 1:8 mismatched input ''Turkey'' expecting {'=', '!=', '<', '<=', '>', '>=', 'GLOB', 'NOT', 'IN', 'CONTAINS'}",
    ],
    [
      "country = 'Turkey' population > 1",
      "Invalid filter. At line 1:19 extraneous input 'population' expecting {<EOF>, 'AND', 'OR'}",
    ],
    ['city GLOB 5', "Invalid filter. At line 1:10 mismatched input '5' expecting STRING"],
    [
      "city NOT = 'x'",
      "Invalid filter. At line 1:9 mismatched input '=' expecting {'GLOB', 'IN', 'CONTAINS'}",
    ],
    ["city IN 'x'", "Invalid filter. At line 1:8 mismatched input ''x'' expecting '('"],
    [
      "city IN ('x' 'y')",
      "Invalid filter. At line 1:13 mismatched input ''y'' expecting {',', ')'}",
    ],
    ['HAS FIELD', "Invalid filter. At line 1:9 mismatched input '<EOF>' expecting IDENTIFIER"],
    ['HAS city', "Invalid filter. At line 1:4 mismatched input 'city' expecting {'FIELD', 'NOT'}"],
    [
      "name = 'unterminated",
      "Invalid filter. At line 1:7 token recognition error at: ''unterminated'",
    ],
    ["city = 'x' AND\n  size ! 3", "Invalid filter. At line 2:7 token recognition error at: '!'"],
    ['a..b = 1', "Invalid filter. At line 1:0 invalid identifier 'a..b'"],
    ['tags[x] = 1', "Invalid filter. At line 1:0 invalid identifier 'tags[x]'"],
    ['= 1', "Invalid filter. At line 1:0 mismatched input '=' expecting {'(', 'HAS', IDENTIFIER}"],
  ];

  for (const [filter, message] of errors) {
    it(`rejects ${JSON.stringify(filter)} with a positioned syntax error`, async () => {
      await expect(index.query({ vector: [1, 0], topK: 1, filter })).rejects.toThrow(message);
    });
  }

  it('answers a bad filter with HTTP 400 and the {error, status} body, and deletes nothing', async () => {
    const response = await raw(
      service,
      '/query',
      JSON.stringify({ vector: [1, 0], filter: 'a ==' }),
    );
    expect(response).toEqual({
      status: 400,
      body: {
        error:
          "Invalid filter. At line 1:3 mismatched input '=' expecting {STRING, NUMBER, BOOLEAN}",
        status: 400,
      },
      text: expect.any(String),
    });
    await expect(index.delete({ filter: 'city GLOB' })).rejects.toThrow('Invalid filter.');
    expect((await index.info()).vectorCount).toBe(5);
  });
});
