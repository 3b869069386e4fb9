import { Client, type NeonDbError, neonConfig, Pool } from '@neondatabase/serverless';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type NeonService, startNeon } from '../../../tools/local-cloud/neon/index.ts';
import { backends, uniqueTable, useLocalNeon } from './backends.ts';

useLocalNeon();

describe.each(backends)('Neon WebSocket proxy ($name)', ({ backend }) => {
  let service: NeonService;
  const pools: Pool[] = [];
  const pool = () => {
    const p = new Pool({ connectionString: service.connectionString, max: 5 });
    pools.push(p);
    return p;
  };

  beforeAll(async () => {
    service = await startNeon({ port: 0, backend });
  });
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((p) => p.end()));
    neonConfig.pipelineConnect = 'password';
  });
  afterAll(() => service?.close());

  it('runs interactive transactions through Pool clients', async () => {
    const table = uniqueTable('ws_tx');
    const p = pool();
    await p.query(`create table ${table} (id int primary key, note text)`);
    const client = await p.connect();
    try {
      await client.query('begin');
      await client.query(`insert into ${table} values ($1, $2)`, [1, 'kept?']);
      const inside = await client.query(`select count(*)::int as n from ${table}`);
      expect(inside.rows).toEqual([{ n: 1 }]);
      await client.query('rollback');
      await client.query('begin');
      await client.query(`insert into ${table} values ($1, $2)`, [2, 'kept']);
      await client.query('commit');
    } finally {
      client.release();
    }
    const { rows } = await p.query(`select id, note from ${table}`);
    expect(rows).toEqual([{ id: 2, note: 'kept' }]);
  });

  it.each([['password', 'password'] as const, ['off', false] as const])(
    'connects with pipelineConnect %s',
    async (_label, mode) => {
      neonConfig.pipelineConnect = mode;
      const client = new Client(service.connectionString);
      await client.connect();
      const { rows } = await client.query('select $1::text as mode', [String(mode)]);
      expect(rows).toEqual([{ mode: String(mode) }]);
      await client.end();
    },
  );

  it('serves 10 pools x 5 concurrent queries, each getting its own rows', async () => {
    const table = uniqueTable('ws_many');
    await pool().query(`create table ${table} (pool int, query int)`);
    const results = await Promise.all(
      Array.from({ length: 10 }, async (_, p) => {
        const each = pool();
        return Promise.all(
          Array.from({ length: 5 }, async (_, q) => {
            // A write and a read of this query's own values, the read checked exactly.
            const client = await each.connect();
            try {
              await client.query('begin');
              await client.query(`insert into ${table} values ($1, $2)`, [p, q]);
              const mine = await client.query(
                `select pool, query, $3::text as tag from ${table} where pool = $1 and query = $2`,
                [p, q, `p${p}q${q}`],
              );
              await client.query('commit');
              return mine.rows;
            } finally {
              client.release();
            }
          }),
        );
      }),
    );
    for (const [p, perPool] of results.entries()) {
      for (const [q, rows] of perPool.entries()) {
        expect(rows).toEqual([{ pool: p, query: q, tag: `p${p}q${q}` }]);
      }
    }
    const { rows } = await pool().query(`select count(*)::int as n from ${table}`);
    expect(rows).toEqual([{ n: 50 }]);
  });

  it('keeps named prepared statements of different clients apart', async () => {
    const p = pool();
    const [a, b] = await Promise.all([p.connect(), p.connect()]);
    try {
      const first = await a.query({ name: 'same', text: 'select $1::int * 2 as v', values: [21] });
      const second = await b.query({
        name: 'same',
        text: "select $1::text || '!' as v",
        values: ['hi'],
      });
      const again = await a.query({ name: 'same', text: 'select $1::int * 2 as v', values: [5] });
      expect([first.rows, second.rows, again.rows]).toEqual([
        [{ v: 42 }],
        [{ v: 'hi!' }],
        [{ v: 10 }],
      ]);
    } finally {
      a.release();
      b.release();
    }
  });

  it('rolls back the transaction of a client that disconnects without committing', async () => {
    const table = uniqueTable('ws_drop');
    await pool().query(`create table ${table} (id int)`);
    const client = new Client(service.connectionString);
    await client.connect();
    await client.query('begin');
    await client.query(`insert into ${table} values (1)`);
    await client.end();
    const { rows } = await pool().query(`select count(*)::int as n from ${table}`);
    expect(rows).toEqual([{ n: 0 }]);
  });

  it('reports Postgres errors through the driver and keeps the connection usable', async () => {
    const client = new Client(service.connectionString);
    await client.connect();
    const error = (await client.query('select 1/0').catch((e) => e)) as NeonDbError;
    expect(error).toMatchObject({ code: '22012', message: 'division by zero' });
    expect((await client.query('select 2 as two')).rows).toEqual([{ two: 2 }]);
    await client.end();
  });

  it('closes a connection that sends garbage and keeps serving others', async () => {
    for (const garbage of [
      Buffer.from('GET / HTTP/1.1\r\n\r\n'),
      Buffer.from([0, 0, 0, 8, 1, 2, 3, 4]),
      Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]),
      Buffer.alloc(64 * 1024, 0x41),
    ]) {
      const ws = new WebSocket(`ws://${service.wsProxy}?address=whatever:5432`);
      ws.binaryType = 'arraybuffer';
      const closed = new Promise<string>((resolve) => {
        let received = '';
        ws.onmessage = (e) => {
          received += Buffer.from(e.data as ArrayBuffer).toString('latin1');
        };
        ws.onclose = () => resolve(received);
        ws.onerror = () => resolve(received);
      });
      await new Promise((resolve) => {
        ws.onopen = resolve;
      });
      ws.send(garbage);
      const answer = await closed;
      // A FATAL ErrorResponse (or a bare close): never a crash, never a hang.
      if (answer.length > 0) expect(answer[0]).toBe('E');
    }
    const { rows } = await pool().query('select 1 as alive');
    expect(rows).toEqual([{ alive: 1 }]);
  });
});

describe('Neon WebSocket proxy on PGlite', () => {
  it('refuses a wrong password with 28P01', async () => {
    const service = await startNeon({ port: 0, backend: { kind: 'pglite', password: 'right' } });
    const wrong = service.connectionString.replace(':right@', ':wrong@');
    try {
      neonConfig.pipelineConnect = false;
      const client = new Client(wrong);
      const error = (await client.connect().catch((e) => e)) as NeonDbError;
      expect(error).toMatchObject({ code: '28P01' });

      // Pipelined (the driver's default), connect() resolves at once and the refusal arrives
      // as the client's error event.
      neonConfig.pipelineConnect = 'password';
      const pipelined = new Client(wrong);
      const refused = new Promise<NeonDbError>((resolve) =>
        pipelined.on('error', (error: Error) => resolve(error as NeonDbError)),
      );
      await pipelined.connect().catch(() => {});
      expect(await refused).toMatchObject({ code: '28P01' });
    } finally {
      neonConfig.pipelineConnect = 'password';
      await service.close();
    }
  });
});
