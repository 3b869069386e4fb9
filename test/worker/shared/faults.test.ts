import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { sqlState } from '../../../shared/db/errors.ts';
import { WorkersAiError } from '../../../shared/embeddings/workers-ai.ts';
import { breakerStates, resetBreakers } from '../../../shared/resilience/circuit-breaker.ts';
import {
  faultOf,
  isBindingFault,
  isPostgresFault,
  isUpstashFault,
  isWorkersAiFault,
  markFault,
} from '../../../shared/resilience/faults.ts';
import { DEAD_DATABASE_URL, testServices } from '../helpers.ts';

afterEach(() => resetBreakers());

/** What a query that Postgres refuses throws, through drizzle and the Neon driver, as produced. */
async function refusal(query: ReturnType<typeof sql>): Promise<unknown> {
  try {
    await testServices().db.execute(query);
  } catch (error) {
    return error;
  }
  throw new Error('the query did not fail');
}

/** An error as Upstash's SDKs throw for an error reply. */
function upstashError(message: string): Error {
  const error = new Error(message);
  error.name = 'UpstashError';
  return error;
}

describe('Postgres faults', () => {
  it("counts a query the client's input made fail as an answer, not a fault", async () => {
    const outOfRange = await refusal(sql`select ${'2147483648'}::int4`);
    expect(sqlState(outOfRange)).toBe('22003');
    expect(isPostgresFault(outOfRange)).toBe(false);
    expect(faultOf(outOfRange)).toBeUndefined();

    const badDate = await refusal(sql`select ${'2025-13-45'}::timestamptz`);
    expect(sqlState(badDate)?.startsWith('22')).toBe(true);
    expect(isPostgresFault(badDate)).toBe(false);

    const undefinedTable = await refusal(sql`select * from no_such_table`);
    expect(sqlState(undefinedTable)).toBe('42P01');
    expect(isPostgresFault(undefinedTable)).toBe(false);
  });

  it('counts a refused connection as a fault of Postgres', async () => {
    let error: unknown;
    try {
      await testServices({ DATABASE_URL: DEAD_DATABASE_URL }).db.execute(sql`select 1`);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeDefined();
    expect(sqlState(error)).toBeUndefined();
    expect(isPostgresFault(error)).toBe(true);
    expect(faultOf(error)).toBe('postgres');
  });

  it('counts a lost interactive transaction connection as a fault, as an Error', async () => {
    const services = testServices({ DATABASE_URL: DEAD_DATABASE_URL });
    let error: unknown;
    try {
      await services.transaction((tx) => tx.execute(sql`select 1`));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(Error);
    expect(faultOf(error)).toBe('postgres');
  });

  it('does not count a bug of ours thrown before any query left as a fault', async () => {
    const services = testServices();
    const bug = () =>
      services.guard('postgres', async () => (undefined as unknown as { x: () => 1 }).x());
    for (let i = 0; i < 12; i++) await expect(bug()).rejects.toBeInstanceOf(TypeError);
    expect(breakerStates().postgres.state).toBe('closed');
    let error: unknown;
    try {
      await bug();
    } catch (caught) {
      error = caught;
    }
    expect(faultOf(error)).toBeUndefined();
    // The same TypeError as a driver's transport failure is one.
    const driver = Object.assign(new Error('Error connecting to database'), {
      name: 'NeonDbError',
      sourceError: new TypeError('fetch failed'),
    });
    expect(isPostgresFault(driver)).toBe(true);
  });

  it.each([
    ['28P01', true],
    ['3D000', true],
    ['08006', true],
    ['53300', true],
    ['57P01', true],
    ['57014', true],
    ['58030', true],
    ['XX000', true],
    ['22003', false],
    ['22P02', false],
    ['23505', false],
    ['23503', false],
    ['42703', false],
    ['40001', false],
  ])('classifies SQLSTATE %s as a fault: %s', (code, fault) => {
    const driver = Object.assign(new Error('driver'), { name: 'NeonDbError', code });
    const wrapped = new Error('Failed query', { cause: driver });
    expect(isPostgresFault(wrapped)).toBe(fault);
    expect(faultOf(wrapped)).toBe(fault ? 'postgres' : undefined);
  });
});

describe('Upstash faults', () => {
  it('counts network failures and bodies that are not Upstash JSON', () => {
    expect(isUpstashFault(new Error('Network connection lost.'))).toBe(true);
    expect(isUpstashFault(new TypeError('fetch failed'))).toBe(true);
    const parse = new Error('Unable to parse response body: <html>502</html>');
    parse.name = 'UpstashJSONParseError';
    expect(isUpstashFault(parse)).toBe(true);
  });

  it("counts replies about the service's availability", () => {
    for (const reply of [
      'ERR max daily request limit exceeded',
      'ERR max concurrent connections exceeded',
      'LOADING Redis is loading the dataset in memory',
      'WRONGPASS invalid or missing auth token',
      'Service Unavailable',
    ]) {
      expect(isUpstashFault(upstashError(reply)), reply).toBe(true);
    }
  });

  it('does not count command errors, which a healthy service answers', () => {
    for (const reply of [
      'WRONGTYPE Operation against a key holding the wrong kind of value',
      'ERR syntax error, command was: ["set"]',
      'Namespace not found',
      'Invalid filter: unexpected token',
    ]) {
      expect(isUpstashFault(upstashError(reply)), reply).toBe(false);
    }
  });
});

describe('Workers AI, KV and queue faults', () => {
  it('counts 429, 5xx, refused credentials and unusable answers from Workers AI', () => {
    for (const status of [0, 401, 403, 429, 500, 503]) {
      expect(isWorkersAiFault(new WorkersAiError('x', status)), String(status)).toBe(true);
    }
    expect(isWorkersAiFault(new Error('The operation was aborted due to timeout'))).toBe(true);
  });

  it('does not count Workers AI refusing an input', () => {
    expect(isWorkersAiFault(new WorkersAiError('input too long', 400))).toBe(false);
    expect(isWorkersAiFault(new WorkersAiError('unprocessable', 422))).toBe(false);
  });

  it('counts binding failures but not requests beyond their limits', () => {
    expect(isBindingFault(new Error('KV GET failed: 503 Service Unavailable'))).toBe(true);
    expect(isBindingFault(new Error('Queue send failed: internal error'))).toBe(true);
    expect(
      isBindingFault(
        new Error(
          'KV GET failed: 414 UTF-8 encoded length of 600 exceeds key length limit of 512.',
        ),
      ),
    ).toBe(false);
    expect(isBindingFault(new Error('Queue send failed: message too large'))).toBe(false);
    expect(isBindingFault(new TypeError('Unsupported value'))).toBe(false);
  });
});

describe('markFault and faultOf', () => {
  it('finds a marked error through the errors that wrap it', () => {
    const root = markFault(new Error('connection refused'), 'redis');
    const wrapped = new Error('outer', { cause: new Error('middle', { cause: root }) });
    expect(faultOf(wrapped)).toBe('redis');
    expect(faultOf(new Error('a bug'))).toBeUndefined();
  });

  it("follows the Neon driver's sourceError, and stops at a cycle", () => {
    const source = markFault(new Error('lost'), 'postgres');
    const driver = Object.assign(new Error('Error connecting to database'), {
      sourceError: source,
    });
    expect(faultOf(driver)).toBe('postgres');
    const a = new Error('a') as Error & { cause?: unknown };
    a.cause = new Error('b', { cause: a });
    expect(faultOf(a)).toBeUndefined();
  });
});
