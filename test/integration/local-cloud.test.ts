import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { neon, neonConfig } from '@neondatabase/serverless';
import { Client as QStash, Receiver } from '@upstash/qstash';
import { Redis } from '@upstash/redis';
import { Index } from '@upstash/vector';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createWorkersAiEmbeddingProvider } from '../../shared/embeddings/workers-ai.ts';

/**
 * A small sparse vector of a text, as Sift computes its own: one dimension per distinct word
 * (FNV-1a hash), valued by its count.
 */
function sparseOf(text: string): { indices: number[]; values: number[] } {
  const counts = new Map<number, number>();
  for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    let hash = 0x811c9dc5;
    for (let i = 0; i < word.length; i++) hash = Math.imul(hash ^ word.charCodeAt(i), 0x01000193);
    const index = hash >>> 1;
    counts.set(index, (counts.get(index) ?? 0) + 1);
  }
  return { indices: [...counts.keys()], values: [...counts.values()] };
}

/**
 * The five services of the suite's local cloud (started once by the `globalSetup` in
 * test/helpers/local-cloud.ts), working together through their official clients: QStash delivers
 * a signed message to a handler, which writes it to Postgres and Redis and indexes it in the
 * vector index (custom vectors, as Sift's index: dense from Workers AI, sparse its own).
 */
describe('the local cloud as one system', () => {
  const env = inject('localCloud');
  neonConfig.fetchEndpoint = (host, port) => `http://${host}:${port}/sql`;
  const sql = neon(env.DATABASE_URL!);
  const redis = new Redis({
    url: env.UPSTASH_REDIS_REST_URL!,
    token: env.UPSTASH_REDIS_REST_TOKEN!,
  });
  const index = new Index({
    url: env.UPSTASH_VECTOR_REST_URL!,
    token: env.UPSTASH_VECTOR_REST_TOKEN!,
  });
  const embeddings = createWorkersAiEmbeddingProvider({
    accountId: env.WORKERS_AI_ACCOUNT_ID!,
    apiToken: env.WORKERS_AI_API_TOKEN!,
    apiUrl: env.WORKERS_AI_API_URL!,
  });
  const qstash = new QStash({ baseUrl: env.QSTASH_URL!, token: env.QSTASH_TOKEN! });
  const receiver = new Receiver({
    currentSigningKey: env.QSTASH_CURRENT_SIGNING_KEY!,
    nextSigningKey: env.QSTASH_NEXT_SIGNING_KEY!,
  });
  const table = `integration_${Date.now()}`;
  let handler: Server;
  let url: string;
  const rejected: string[] = [];

  beforeAll(async () => {
    await sql.query(`create table ${table} (id text primary key, title text not null)`);
    handler = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => {
        body += chunk;
      });
      req.on('end', async () => {
        const valid = await receiver
          .verify({ signature: String(req.headers['upstash-signature']), body, url })
          .catch(() => false);
        if (!valid) {
          rejected.push(body);
          res.writeHead(401).end();
          return;
        }
        const item = JSON.parse(body) as { id: string; title: string };
        await sql.query(`insert into ${table} values ($1, $2) on conflict (id) do nothing`, [
          item.id,
          item.title,
        ]);
        const [vector] = await embeddings.embed([item.title]);
        await index.upsert({
          id: item.id,
          vector: Array.from(vector!),
          sparseVector: sparseOf(item.title),
          metadata: { table },
        });
        await redis.set(`integration:${item.id}`, item.title);
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => handler.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(handler.address() as AddressInfo).port}/ingest`;
  });
  afterAll(async () => {
    await sql.query(`drop table if exists ${table}`);
    handler?.close();
  });

  it('delivers a signed message whose handler writes to Postgres, Redis and the vector index', async () => {
    const id = `item-${Date.now()}`;
    await qstash.publishJSON({ url, body: { id, title: 'Dates and coffee in Riyadh' } });

    const deadline = Date.now() + 10_000;
    while ((await redis.get(`integration:${id}`)) === null) {
      if (Date.now() > deadline) throw new Error('the message was not delivered within 10 s');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(rejected).toEqual([]);
    expect(await sql.query(`select title from ${table} where id = $1`, [id])).toEqual([
      { title: 'Dates and coffee in Riyadh' },
    ]);
    const query = 'coffee in Riyadh';
    const [queryVector] = await embeddings.embed([query]);
    const [hit] = await index.query({
      vector: Array.from(queryVector!),
      sparseVector: sparseOf(query),
      topK: 1,
      filter: `table = '${table}'`,
    });
    expect(hit?.id).toBe(id);
    // Sift's index computes no vectors of its own: text data is refused.
    await expect(index.query({ data: query, topK: 1 })).rejects.toThrow(
      'Embedding data for this index is not allowed',
    );
  });

  it('has a handler that refuses a request not signed by QStash', async () => {
    const response = await fetch(url, { method: 'POST', body: '{"id":"forged","title":"x"}' });
    expect(response.status).toBe(401);
    expect(await redis.get('integration:forged')).toBeNull();
  });
});
