import { Hono } from 'hono';
import pg from 'pg';
import { jsonToPgText, pgTextToJson } from './pg-json.ts';
import type { PgAddress } from './ws-proxy.ts';

/** Neon's defaults for `sql_over_http` request and response sizes (10 MiB each). */
const MAX_REQUEST_BYTES = 10 * 1024 * 1024;
const MAX_RESPONSE_BYTES = 10 * 1024 * 1024;

const ISOLATION: Record<string, string> = {
  Serializable: 'SERIALIZABLE',
  ReadUncommitted: 'READ UNCOMMITTED',
  ReadCommitted: 'READ COMMITTED',
  RepeatableRead: 'REPEATABLE READ',
};

type QueryData = { query: string; params: Array<string | null>; arrayMode?: boolean };
type Payload = { kind: 'single'; query: QueryData } | { kind: 'batch'; queries: QueryData[] };
type Options = {
  raw: boolean;
  arrayMode: boolean;
  isolation?: string;
  readOnly: boolean;
  deferrable: boolean;
};

/** A failure the endpoint reports as `{message, code, ...}` with an HTTP status. */
class SqlOverHttpError extends Error {
  readonly status: number;
  readonly db?: pg.DatabaseError;
  constructor(status: number, message: string, db?: pg.DatabaseError) {
    super(message);
    this.status = status;
    this.db = db;
  }
}

/** Values come back exactly as Postgres printed them; the driver parses them by type OID. */
const RAW_TEXT = { getTypeParser: () => (value: string) => value };

/**
 * The `POST /sql` endpoint of `neon()` / `transaction()`: one query, or a batch run as one
 * transaction with the isolation, read-only and deferrable settings from the headers. Queries go
 * to the backend over the ordinary wire protocol through per-credential connection pools, as
 * Neon's proxy does; a connection a query left inside a transaction is discarded, not reused.
 */
export function sqlOverHttp(target: PgAddress) {
  const pools = new Map<string, pg.Pool>();
  const app = new Hono();

  const poolFor = (url: URL) => {
    const database = decodeURIComponent(url.pathname.slice(1));
    const user = decodeURIComponent(url.username);
    const password = decodeURIComponent(url.password);
    const key = JSON.stringify([user, password, database]);
    let pool = pools.get(key);
    if (!pool) {
      pool = new pg.Pool({
        host: target.host,
        port: target.port,
        user,
        password,
        database,
        max: 10,
        idleTimeoutMillis: 30_000,
        application_name: url.searchParams.get('application_name') ?? undefined,
      });
      // An idle client whose server went away must not crash the process.
      pool.on('error', () => {});
      pools.set(key, pool);
    }
    return pool;
  };

  app.options('/sql', (c) =>
    c.body(null, 200, {
      Allow: 'OPTIONS, POST',
      'Access-Control-Allow-Origin': '*',
      'Access-Control-Allow-Headers':
        'Authorization, Neon-Connection-String, Neon-Raw-Text-Output, Neon-Array-Mode, Neon-Pool-Opt-In, Neon-Batch-Read-Only, Neon-Batch-Isolation-Level',
      'Access-Control-Max-Age': '86400',
    }),
  );

  app.post('/sql', async (c) => {
    const cors = { 'Access-Control-Allow-Origin': '*' };
    try {
      const url = connectionInfo(
        c.req.header('neon-connection-string'),
        c.req.header('authorization'),
      );
      const options = headerOptions((name) => c.req.header(name));
      const payload = await readPayload(c.req.raw);
      const pool = poolFor(url);
      const client = await connect(pool);
      const headers: Record<string, string> = { ...cors, 'Content-Type': 'application/json' };
      let body: string;
      try {
        if (payload.kind === 'single') {
          const result = await run(client.client, payload.query, options);
          body = JSON.stringify(result);
          client.release(client.status() !== 'I');
        } else {
          body = await runBatch(client, payload.queries, options);
          if (options.readOnly) headers['Neon-Batch-Read-Only'] = 'true';
          if (options.deferrable) headers['Neon-Batch-Deferrable'] = 'true';
          const level = c.req.header('neon-batch-isolation-level');
          if (level) headers['Neon-Batch-Isolation-Level'] = level;
        }
      } catch (error) {
        client.release(client.status() !== 'I' || !(error instanceof SqlOverHttpError));
        throw error;
      }
      if (Buffer.byteLength(body) > MAX_RESPONSE_BYTES) {
        throw new SqlOverHttpError(
          507,
          `response is too large (max is ${MAX_RESPONSE_BYTES} bytes)`,
        );
      }
      return c.body(body, 200, headers);
    } catch (error) {
      const problem = toProblem(error);
      return c.body(JSON.stringify(problem.body), problem.status as 400, {
        ...cors,
        'Content-Type': 'application/json',
        // The rest of an oversized body is never read, so this connection cannot be reused.
        ...(problem.status === 413 ? { Connection: 'close' } : {}),
      });
    }
  });

  // Neon answers anything that is not `/sql` (and not a WebSocket upgrade) this way.
  app.all('*', (c) =>
    c.body(JSON.stringify('query is not supported'), 400, { 'Content-Type': 'application/json' }),
  );

  return {
    app,
    async close() {
      await Promise.all([...pools.values()].map((p) => p.end().catch(() => {})));
      pools.clear();
    },
  };
}

function connectionInfo(header: string | undefined, authorization: string | undefined): URL {
  if (!header) throw new SqlOverHttpError(400, 'invalid header: neon-connection-string');
  let url: URL;
  try {
    url = new URL(header);
  } catch (error) {
    throw new SqlOverHttpError(400, `invalid connection string: ${(error as Error).message}`);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new SqlOverHttpError(400, 'incorrect scheme');
  }
  if (url.pathname.length <= 1) throw new SqlOverHttpError(400, 'missing database name');
  if (!url.username) throw new SqlOverHttpError(400, 'missing username');
  if (!url.hostname) throw new SqlOverHttpError(400, 'missing hostname');
  if (!url.password && !/^Bearer\s+\S/i.test(authorization ?? '')) {
    throw new SqlOverHttpError(400, 'missing authentication credentials: required password');
  }
  return url;
}

function headerOptions(header: (name: string) => string | undefined): Options {
  const level = header('neon-batch-isolation-level');
  const isolation = level === undefined ? undefined : ISOLATION[level];
  if (level !== undefined && isolation === undefined) {
    throw new SqlOverHttpError(400, 'invalid isolation level');
  }
  // As in Neon: anything but exactly "true" is false.
  return {
    raw: header('neon-raw-text-output') === 'true',
    arrayMode: header('neon-array-mode') === 'true',
    isolation,
    readOnly: header('neon-batch-read-only') === 'true',
    deferrable: header('neon-batch-deferrable') === 'true',
  };
}

async function readPayload(request: Request): Promise<Payload> {
  const reader = request.body?.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (reader) {
    for (;;) {
      const step = await reader.read().catch((error: unknown) => {
        throw new SqlOverHttpError(400, `could not read the HTTP request body: ${String(error)}`);
      });
      if (step.done) break;
      size += step.value.byteLength;
      if (size > MAX_REQUEST_BYTES) {
        await reader.cancel().catch(() => {});
        throw new SqlOverHttpError(413, `request is too large (max is ${MAX_REQUEST_BYTES} bytes)`);
      }
      chunks.push(step.value);
    }
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (error) {
    throw new SqlOverHttpError(
      400,
      `could not parse the HTTP request body: ${(error as Error).message}`,
    );
  }
  // Neon deserialises an untagged enum: a single query first, then a batch.
  const single = queryData(json);
  if (single) return { kind: 'single', query: single };
  if (isObject(json) && Array.isArray(json.queries)) {
    const queries = json.queries.map(queryData);
    if (queries.every((q): q is QueryData => q !== undefined)) return { kind: 'batch', queries };
  }
  throw new SqlOverHttpError(
    400,
    'could not parse the HTTP request body: data did not match any variant of untagged enum Payload',
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function queryData(value: unknown): QueryData | undefined {
  if (!isObject(value) || typeof value.query !== 'string') return undefined;
  const params = value.params ?? [];
  if (!Array.isArray(params)) return undefined;
  const arrayMode = value.arrayMode;
  if (arrayMode !== undefined && arrayMode !== null && typeof arrayMode !== 'boolean')
    return undefined;
  return {
    query: value.query,
    params: params.map(jsonToPgText),
    arrayMode: arrayMode ?? undefined,
  };
}

type Leased = {
  client: pg.PoolClient;
  status(): 'I' | 'T' | 'E';
  release(discard: boolean): void;
};

/** Checks a client out and tracks its transaction status from ReadyForQuery messages. */
async function connect(pool: pg.Pool): Promise<Leased> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    if (error instanceof pg.DatabaseError) throw new SqlOverHttpError(400, error.message, error);
    throw new SqlOverHttpError(
      500,
      `Couldn't connect to compute node: ${(error as Error).message}`,
    );
  }
  let status: 'I' | 'T' | 'E' = 'I';
  const connection = (client as unknown as { connection: NodeJS.EventEmitter }).connection;
  const onReady = (msg: { status: string }) => {
    status = msg.status as 'I' | 'T' | 'E';
  };
  connection.on('readyForQuery', onReady);
  let released = false;
  return {
    client,
    status: () => status,
    release(discard) {
      if (released) return;
      released = true;
      connection.off('readyForQuery', onReady);
      client.release(discard);
    },
  };
}

async function run(client: pg.ClientBase, data: QueryData, options: Options) {
  const arrayMode = data.arrayMode ?? options.arrayMode;
  let result: pg.QueryArrayResult;
  try {
    result = await client.query({
      text: data.query,
      values: data.params,
      rowMode: 'array',
      types: RAW_TEXT,
      // Neon runs every query through the extended protocol: one statement per query.
      queryMode: 'extended',
    } as pg.QueryArrayConfig);
  } catch (error) {
    if (error instanceof pg.DatabaseError) throw new SqlOverHttpError(400, error.message, error);
    throw error;
  }
  const fields = result.fields.map((f) => ({
    name: f.name,
    dataTypeID: f.dataTypeID,
    tableID: f.tableID,
    columnID: f.columnID,
    dataTypeSize: f.dataTypeSize,
    dataTypeModifier: f.dataTypeModifier,
    format: 'text',
  }));
  const rows = result.rows.map((row) => {
    const values = row.map((value: string | null, i) =>
      value === null || options.raw ? value : pgTextToJson(value, fields[i]!.dataTypeID),
    );
    return arrayMode ? values : Object.fromEntries(fields.map((f, i) => [f.name, values[i]]));
  });
  return {
    rowAsArray: arrayMode,
    fields,
    rows,
    command: result.command ?? '',
    rowCount: result.rowCount ?? null,
  };
}

async function runBatch(leased: Leased, queries: QueryData[], options: Options): Promise<string> {
  const client = leased.client;
  const modes = [
    options.isolation && `ISOLATION LEVEL ${options.isolation}`,
    options.readOnly && 'READ ONLY',
    options.deferrable && 'DEFERRABLE',
  ].filter(Boolean);
  await client.query(`START TRANSACTION${modes.length ? ` ${modes.join(', ')}` : ''}`);
  const results = [];
  try {
    for (const query of queries) results.push(await run(client, query, options));
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    leased.release(leased.status() !== 'I');
    throw error;
  }
  try {
    await client.query('COMMIT');
  } catch (error) {
    leased.release(true);
    if (error instanceof pg.DatabaseError) throw new SqlOverHttpError(400, error.message, error);
    throw error;
  }
  leased.release(leased.status() !== 'I');
  return JSON.stringify({ results });
}

const DB_FIELDS = [
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
] as const;

/** The error body of Neon's proxy: every field present, `null` when Postgres did not send it. */
function toProblem(error: unknown): { status: number; body: Record<string, unknown> } {
  const known = error instanceof SqlOverHttpError ? error : undefined;
  const status = known?.status ?? 500;
  const message = known?.message ?? `internal error: ${String(error)}`;
  const body: Record<string, unknown> = { message };
  const db = known?.db as Record<string, unknown> | undefined;
  for (const field of DB_FIELDS) body[field] = (db?.[field] as string | undefined) ?? null;
  // Neon's proxy fills these two with empty strings, not null, when there is no database error.
  body.code ??= '';
  body.severity ??= '';
  return { status, body };
}
