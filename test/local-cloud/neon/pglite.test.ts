import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, type NeonDbError, neon } from '@neondatabase/serverless';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NeonService, startNeon } from '../../../tools/local-cloud/neon/index.ts';
import { useLocalNeon } from './backends.ts';

useLocalNeon();

describe('PGlite behind the Neon proxy: one session shared safely', () => {
  let service: NeonService;

  beforeAll(async () => {
    service = await startNeon({ port: 0, backend: { kind: 'pglite', sessionWaitMs: 300 } });
  });
  afterAll(() => service?.close());

  const connect = async () => {
    const client = new Client(service.connectionString);
    await client.connect();
    return client;
  };

  it("runs another connection's statement only after an open transaction ends", async () => {
    const sql = neon(service.connectionString);
    await sql`create table serial_check (id int)`;
    const writer = await connect();
    const reader = await connect();
    try {
      await writer.query('begin');
      await writer.query('insert into serial_check values (1)');
      const order: string[] = [];
      const read = reader.query('select count(*)::int as n from serial_check').then((r) => {
        order.push('read');
        return r.rows;
      });
      await new Promise((resolve) => setTimeout(resolve, 50));
      order.push('commit');
      await writer.query('commit');
      // The read waited for the session, so it ran after the commit and sees the row.
      expect(await read).toEqual([{ n: 1 }]);
      expect(order).toEqual(['commit', 'read']);
    } finally {
      await Promise.all([writer.end(), reader.end()]);
    }
  });

  it('fails a statement with 55P03 when the session stays taken past the wait limit', async () => {
    const holder = await connect();
    const waiter = await connect();
    try {
      await holder.query('begin');
      const error = (await waiter.query('select 1').catch((e) => e)) as NeonDbError;
      expect(error.code).toBe('55P03');
      await holder.query('rollback');
      // The waiting connection is still in a sane protocol state afterwards.
      expect((await waiter.query('select 2 as ok')).rows).toEqual([{ ok: 2 }]);
    } finally {
      await Promise.all([holder.end(), waiter.end()]);
    }
  });

  it('serves the plain wire protocol too, for psql and pg', async () => {
    const client = new pg.Client({
      ...service.pg,
      user: 'postgres',
      password: 'postgres',
      database: 'postgres',
    });
    await client.connect();
    const { rows } = await client.query('select version() as v');
    expect(rows[0].v).toMatch(/^PostgreSQL \d+/);
    const wrong = new pg.Client({
      ...service.pg,
      user: 'postgres',
      password: 'nope',
      database: 'postgres',
    });
    await expect(wrong.connect()).rejects.toMatchObject({ code: '28P01' });
    await client.end();
  });

  it('closes statements of a connection that ends, so a new one can reuse the name', async () => {
    const first = await connect();
    await first.query({ name: 'reuse', text: 'select 1 as v' });
    await first.end();
    const second = await connect();
    expect((await second.query({ name: 'reuse', text: 'select 2 as v' })).rows).toEqual([{ v: 2 }]);
    await second.end();
  });
});

describe('PGlite persistence', () => {
  it('keeps data in its data directory across restarts', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'sift-pglite-'));
    try {
      const first = await startNeon({ port: 0, backend: { kind: 'pglite', dataDir } });
      await neon(first.connectionString)`create table kept (v text)`;
      await neon(first.connectionString)`insert into kept values ('still here')`;
      await first.close();

      const second = await startNeon({ port: 0, backend: { kind: 'pglite', dataDir } });
      try {
        expect(await neon(second.connectionString)`select v from kept`).toEqual([
          { v: 'still here' },
        ]);
      } finally {
        await second.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('PGlite wire server under malformed input', () => {
  it('answers garbage with a FATAL error or a close, and keeps serving', async () => {
    const { connect } = await import('node:net');
    const { frontend } = await import('../../../tools/local-cloud/neon/wire.ts');
    const service = await startNeon({ port: 0, backend: { kind: 'pglite' } });
    const exchange = (bytes: Buffer[]) =>
      new Promise<string>((resolve) => {
        const socket = connect(service.pg.port, service.pg.host);
        let received = '';
        socket.on('data', (d) => {
          received += d.toString('latin1');
        });
        socket.on('close', () => resolve(received));
        socket.on('error', () => resolve(received));
        socket.on('connect', async () => {
          for (const b of bytes) {
            socket.write(b);
            await new Promise((r) => setTimeout(r, 10));
          }
          setTimeout(() => socket.end(), 100);
        });
      });
    const startup = frontend.startup({ user: 'postgres', database: 'postgres' });
    const password = frontend.password('postgres');
    const unterminated = Buffer.concat([
      Buffer.from('P'),
      Buffer.from([0, 0, 0, 8]),
      Buffer.from('abcd'),
    ]);
    try {
      const answers = await Promise.all([
        exchange([Buffer.from([0, 0, 0, 3, 9, 9, 9, 9])]), // length below the minimum
        exchange([Buffer.from([0, 0, 0, 16, 0, 2, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8])]), // protocol 2
        exchange([startup, Buffer.from('Q\x00\x00\x00\x02')]), // message before the password
        exchange([startup, password, unterminated]),
        exchange([startup, password, Buffer.from('?\x00\x00\x00\x04')]), // unknown message type
        exchange([startup, password, Buffer.from([0x51, 0x7f, 0xff, 0xff, 0xff])]), // 2 GiB length
      ]);
      for (const answer of answers) {
        const fatal = answer.indexOf('SFATAL');
        expect(fatal, JSON.stringify(answer)).toBeGreaterThan(-1);
      }
      const client = new pg.Client({
        ...service.pg,
        user: 'postgres',
        password: 'postgres',
        database: 'postgres',
      });
      await client.connect();
      expect((await client.query('select 1 as ok')).rows).toEqual([{ ok: 1 }]);
      await client.end();
    } finally {
      await service.close();
    }
  });
});
