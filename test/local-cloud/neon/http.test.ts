import { NeonDbError, type NeonQueryFunction, neon } from '@neondatabase/serverless';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NeonService, startNeon } from '../../../tools/local-cloud/neon/index.ts';
import { backends, jsonBody, uniqueTable, useLocalNeon } from './backends.ts';

useLocalNeon();

describe.each(backends)('Neon SQL over HTTP ($name)', ({ backend }) => {
  let service: NeonService;
  let sql: NeonQueryFunction<false, false>;

  beforeAll(async () => {
    service = await startNeon({ port: 0, backend });
    sql = neon(service.connectionString);
  });
  afterAll(() => service?.close());

  /** POSTs to /sql the way the driver does, with overridable headers and body. */
  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(service.fetchEndpoint, {
      method: 'POST',
      body,
      headers: {
        'Neon-Connection-String': service.connectionString,
        'Neon-Raw-Text-Output': 'true',
        'Neon-Array-Mode': 'true',
        ...headers,
      },
    });

  const caught = async (promise: Promise<unknown>) => {
    try {
      await promise;
    } catch (error) {
      return error as NeonDbError;
    }
    throw new Error('expected the query to fail');
  };

  it('returns rows the driver parses by type for a parameterised query', async () => {
    const bytes = Buffer.from([0, 1, 2, 250, 255]);
    const [row] = await sql`
      select ${42}::int4 as i, ${'9007199254740993'}::int8 as big, ${true}::bool as b,
             ${'قطة "cat"'}::text as t, ${'12.50'}::numeric as n, ${JSON.stringify({ a: [1, 'x'] })}::jsonb as j,
             ${'2026-01-02T03:04:05.678Z'}::timestamptz as ts, ${[1, 2, 3]}::int[] as ints,
             ${['a b', 'q"uote', null]}::text[] as texts, ${bytes}::bytea as raw, ${null}::text as nothing`;
    expect(row).toEqual({
      i: 42,
      big: '9007199254740993',
      b: true,
      t: 'قطة "cat"',
      n: '12.50',
      j: { a: [1, 'x'] },
      ts: new Date('2026-01-02T03:04:05.678Z'),
      ints: [1, 2, 3],
      texts: ['a b', 'q"uote', null],
      raw: bytes,
      nothing: null,
    });
  });

  it('reports fields, command and rowCount, in array mode when asked', async () => {
    const table = uniqueTable('http_full');
    await sql.query(`create table ${table} (id int primary key, name text)`);
    const insert = await sql.query(
      `insert into ${table} values (1, 'a'), (2, 'b'), (3, 'c') returning id`,
      [],
      { fullResults: true, arrayMode: true },
    );
    expect(insert.command).toBe('INSERT');
    expect(insert.rowCount).toBe(3);
    expect(insert.rows).toEqual([[1], [2], [3]]);
    expect(insert.fields).toEqual([
      expect.objectContaining({ name: 'id', dataTypeID: 23, dataTypeSize: 4, format: 'text' }),
    ]);
    expect(insert.fields[0]?.tableID).toBeGreaterThan(0);
    const update = await sql.query(`update ${table} set name = 'z' where id > 1`, [], {
      fullResults: true,
    });
    expect(update).toMatchObject({ command: 'UPDATE', rowCount: 2, rows: [] });
    const ddl = await sql.query(`drop table ${table}`, [], { fullResults: true });
    // As in Neon: a multi-word command tag keeps its first word and has no count.
    expect(ddl).toMatchObject({ command: 'DROP', rowCount: null });
  });

  it('runs transaction() batches atomically and rolls back a failing one', async () => {
    const table = uniqueTable('http_tx');
    await sql.query(`create table ${table} (id int primary key)`);
    const [inserted, counted] = await sql.transaction([
      sql.query(`insert into ${table} values (1), (2) returning id`),
      sql.query(`select count(*)::int as n from ${table}`),
    ]);
    expect(inserted).toEqual([{ id: 1 }, { id: 2 }]);
    expect(counted).toEqual([{ n: 2 }]);

    const error = await caught(
      sql.transaction([
        sql.query(`insert into ${table} values (3)`),
        sql.query(`insert into ${table} values (1)`),
      ]),
    );
    expect(error.code).toBe('23505');
    expect(await sql.query(`select id from ${table} order by id`)).toEqual([{ id: 1 }, { id: 2 }]);
  });

  it('applies the isolation level, read-only and deferrable options to a batch', async () => {
    const [[isolation] = [], [readOnly] = [], [deferrable] = []] = (await sql.transaction(
      [
        sql`select current_setting('transaction_isolation') as v`,
        sql`select current_setting('transaction_read_only') as v`,
        sql`select current_setting('transaction_deferrable') as v`,
      ],
      { isolationLevel: 'Serializable', readOnly: true, deferrable: true },
    )) as Array<Array<{ v: string }>>;
    expect([isolation?.v, readOnly?.v, deferrable?.v]).toEqual(['serializable', 'on', 'on']);

    const table = uniqueTable('http_ro');
    await sql.query(`create table ${table} (id int)`);
    const error = await caught(
      sql.transaction([sql.query(`insert into ${table} values (1)`)], { readOnly: true }),
    );
    expect(error.code).toBe('25006');
    const [[level] = []] = (await sql.transaction([sql`show transaction_isolation`], {
      isolationLevel: 'RepeatableRead',
    })) as Array<Array<{ transaction_isolation: string }>>;
    expect(level?.transaction_isolation).toBe('repeatable read');
  });

  it('surfaces Postgres errors with code, detail, position and the rest of the fields', async () => {
    const syntax = await caught(sql`selec 1`);
    expect(syntax).toBeInstanceOf(NeonDbError);
    expect(syntax).toMatchObject({
      message: 'syntax error at or near "selec"',
      code: '42601',
      position: '1',
      severity: 'ERROR',
    });

    const table = uniqueTable('http_err');
    await sql.query(`create table ${table} (id int constraint ${table}_pk primary key)`);
    await sql.query(`insert into ${table} values (1)`);
    const duplicate = await caught(sql.query(`insert into ${table} values (1)`));
    expect(duplicate).toMatchObject({
      code: '23505',
      detail: 'Key (id)=(1) already exists.',
      constraint: `${table}_pk`,
      table,
      schema: 'public',
    });
    expect(duplicate.routine).toBeTypeOf('string');
  });

  it('refuses several statements in one query, as the extended protocol does', async () => {
    const error = await caught(sql.query('select 1; select 2'));
    expect(error).toMatchObject({
      code: '42601',
      message: 'cannot insert multiple commands into a prepared statement',
    });
  });

  it('answers typed JSON when raw text output is not requested', async () => {
    const response = await post(
      JSON.stringify({
        query: `select 1 as a, true as b, '{"x":1}'::json as j, 1.5::float8 as f, 'NaN'::float8 as n,
                9::int8 as big, '{1,NULL,3}'::int[] as arr, '{{"a,b",c}}'::text[] as nested`,
      }),
      { 'Neon-Raw-Text-Output': 'false', 'Neon-Array-Mode': 'false' },
    );
    expect(response.status).toBe(200);
    const body = await jsonBody(response);
    expect(Object.keys(body)).toEqual(['rowAsArray', 'fields', 'rows', 'command', 'rowCount']);
    expect(body.rows).toEqual([
      {
        a: 1,
        b: true,
        j: { x: 1 },
        f: 1.5,
        n: 'NaN',
        big: '9',
        arr: [1, null, 3],
        nested: [['a,b', 'c']],
      },
    ]);
    expect(body).toMatchObject({ rowAsArray: false, command: 'SELECT', rowCount: 1 });
  });

  it('converts JSON parameters to Postgres text as Neon does', async () => {
    const response = await post(
      JSON.stringify({
        query: 'select $1::text as num, $2::text as obj, $3::text as arr, $4::text as flag',
        params: [42, { a: 1 }, [1, 'two', null, { b: 2 }], false],
      }),
    );
    const body = await jsonBody(response);
    expect(body.rows).toEqual([['42', '{"a":1}', '{1,"two",NULL,"{\\"b\\":2}"}', 'false']]);
  });

  it('rejects requests Neon rejects, with its status and message', async () => {
    const cases: Array<[Promise<Response>, number, string]> = [
      [
        post('{"query":"select 1"}', { 'Neon-Connection-String': '' }),
        400,
        'invalid header: neon-connection-string',
      ],
      [
        post('{"query":"select 1"}', { 'Neon-Connection-String': 'not a url' }),
        400,
        'invalid connection string',
      ],
      [
        post('{"query":"select 1"}', { 'Neon-Connection-String': 'mysql://u:p@h/db' }),
        400,
        'incorrect scheme',
      ],
      [
        post('{"query":"select 1"}', { 'Neon-Connection-String': 'postgres://u:p@h' }),
        400,
        'missing database name',
      ],
      [
        post('{"query":"select 1"}', { 'Neon-Connection-String': 'postgres://u@h/db' }),
        400,
        'missing authentication credentials: required password',
      ],
      [
        post('{"queries":[]}', { 'Neon-Batch-Isolation-Level': 'Chaos' }),
        400,
        'invalid isolation level',
      ],
      [post('{not json'), 400, 'could not parse the HTTP request body'],
      [post('[1,2,3]'), 400, 'data did not match any variant of untagged enum Payload'],
      [post('{"query":42}'), 400, 'data did not match any variant of untagged enum Payload'],
      [post('{"query":"select 1","params":"nope"}'), 400, 'data did not match any variant'],
      [
        post('{"queries":[{"query":"select 1"},{"nope":true}]}'),
        400,
        'data did not match any variant',
      ],
      [post('x'.repeat(11 * 1024 * 1024)), 413, 'request is too large (max is 10485760 bytes)'],
    ];
    for (const [request, status, message] of cases) {
      const response = await request;
      expect(response.status, message).toBe(status);
      expect((await jsonBody(response)).message).toContain(message);
    }
    const other = await fetch(`${service.url}/anything`);
    expect(other.status).toBe(400);
    expect(await other.json()).toBe('query is not supported');
    const preflight = await fetch(service.fetchEndpoint, { method: 'OPTIONS' });
    expect(preflight.headers.get('allow')).toBe('OPTIONS, POST');
    // Still serving after all of that.
    expect(await sql`select 1 as ok`).toEqual([{ ok: 1 }]);
  });

  it('sends the error body with every field, null when Postgres did not set it', async () => {
    const response = await post(JSON.stringify({ query: 'select 1/0' }));
    expect(response.status).toBe(400);
    const body = await jsonBody(response);
    expect(body).toMatchObject({
      message: 'division by zero',
      code: '22012',
      detail: null,
      hint: null,
    });
    expect(Object.keys(body)).toEqual([
      'message',
      'code',
      'detail',
      'hint',
      'position',
      'internalPosition',
      'internalQuery',
      'severity',
      'where',
      'table',
      'column',
      'schema',
      'dataType',
      'constraint',
      'file',
      'line',
      'routine',
    ]);
  });

  it('does not reuse a connection a single query left inside a transaction', async () => {
    for (let i = 0; i < 12; i++) await sql`begin isolation level serializable`;
    // A reused connection would still be inside one of those serializable transactions.
    const rows = await Promise.all(
      Array.from(
        { length: 12 },
        () => sql`select current_setting('transaction_isolation') as level`,
      ),
    );
    expect(new Set(rows.map((r) => r[0]?.level))).toEqual(new Set(['read committed']));
  });
});

describe('Neon SQL over HTTP on PGlite', () => {
  it('refuses a wrong password like Postgres does', async () => {
    const service = await startNeon({ port: 0, backend: { kind: 'pglite', password: 'right' } });
    try {
      const wrong = service.connectionString.replace(':right@', ':wrong@');
      const error = await neon(wrong)`select 1`.catch((e: NeonDbError) => e);
      expect(error).toMatchObject({ code: '28P01' });
      expect(await neon(service.connectionString)`select 1 as ok`).toEqual([{ ok: 1 }]);
    } finally {
      await service.close();
    }
  });
});
