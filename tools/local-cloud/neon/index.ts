import { createServer } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import { createWebSocketStream, WebSocketServer } from 'ws';
import { bind, type RunningService } from '../http.ts';
import { startPgliteServer } from './pglite-server.ts';
import { sqlOverHttp } from './sql-over-http.ts';
import { type PgAddress, proxyPostgres } from './ws-proxy.ts';

export type NeonBackend =
  | {
      kind: 'pglite';
      /** Database directory; absent = in memory. */
      dataDir?: string;
      /** Port for plain wire-protocol access (psql); default a free one. */
      pgPort?: number;
      /** Password clients must present. Default `postgres`. */
      password?: string;
      /** How long a statement waits for the single session; see `startPgliteServer`. */
      sessionWaitMs?: number;
    }
  | {
      kind: 'server';
      /** A Postgres server, e.g. `postgres://postgres@127.0.0.1:5432/test`. */
      url: string;
    };

export type NeonServiceOptions = {
  host?: string;
  /** One port for both the HTTP `/sql` endpoint and the WebSocket proxy; `0` = free. */
  port: number;
  backend?: NeonBackend;
};

export type NeonService = RunningService & {
  backend: NeonBackend['kind'];
  /** What the Worker's `DATABASE_URL` should be: credentials and database, host = this proxy. */
  connectionString: string;
  /** `neonConfig.fetchEndpoint`. */
  fetchEndpoint: string;
  /** `neonConfig.wsProxy` (the driver appends `?address=host:port`). */
  wsProxy: string;
  /** The Postgres wire address behind the proxy (PGlite's TCP server or the real server). */
  pg: PgAddress;
};

/**
 * Neon's serverless endpoints on loopback: `POST /sql` for `neon()` and a WebSocket proxy for
 * `Pool`/`Client`, in front of either an embedded PGlite or a Postgres server. Clients configure
 * `neonConfig.fetchEndpoint`, `wsProxy`, `useSecureWebSocket = false` and `pipelineTLS = false`.
 */
export async function startNeon(options: NeonServiceOptions): Promise<NeonService> {
  const host = options.host ?? '127.0.0.1';
  const config = options.backend ?? { kind: 'pglite' };
  let target: PgAddress;
  let credentials: { user: string; password: string; database: string };
  let closeBackend = async () => {};

  if (config.kind === 'pglite') {
    const password = config.password ?? 'postgres';
    const pglite = await startPgliteServer({
      host,
      port: config.pgPort ?? 0,
      dataDir: config.dataDir,
      password,
      sessionWaitMs: config.sessionWaitMs,
    });
    target = { host: pglite.host, port: pglite.port };
    credentials = { user: 'postgres', password, database: 'postgres' };
    closeBackend = () => pglite.close();
  } else {
    const url = new URL(config.url);
    target = { host: url.hostname || '127.0.0.1', port: Number(url.port || 5432) };
    credentials = {
      user: decodeURIComponent(url.username) || 'postgres',
      // Neon's HTTP endpoint insists on a password; with trust auth any will do.
      password: decodeURIComponent(url.password) || 'postgres',
      database: decodeURIComponent(url.pathname.slice(1)) || 'postgres',
    };
  }

  const http = sqlOverHttp(target);
  const server = createServer(getRequestListener(http.app.fetch));
  const sockets = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 * 1024 });
  server.on('upgrade', (request, socket, head) => {
    socket.on('error', () => {});
    sockets.handleUpgrade(request, socket, head, (ws) => {
      ws.on('error', () => {});
      // Every connection goes to the one backend, whatever `?address=` the driver names.
      proxyPostgres(createWebSocketStream(ws), target);
    });
  });

  let listening: Awaited<ReturnType<typeof bind>>;
  try {
    listening = await bind(server, { host, port: options.port });
  } catch (error) {
    await closeBackend();
    throw error;
  }
  const authority = `${host}:${listening.port}`;
  const { user, password, database } = credentials;
  let closing: Promise<void> | undefined;

  return {
    name: 'neon',
    url: listening.url,
    port: listening.port,
    backend: config.kind,
    connectionString: `postgresql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${authority}/${encodeURIComponent(database)}`,
    fetchEndpoint: `${listening.url}/sql`,
    wsProxy: `${authority}/v2`,
    pg: target,
    close() {
      closing ??= (async () => {
        for (const ws of sockets.clients) ws.close(1001, 'local cloud shutting down');
        await new Promise((resolve) => setTimeout(resolve, sockets.clients.size ? 50 : 0));
        for (const ws of sockets.clients) ws.terminate();
        sockets.close();
        await listening.close();
        await http.close();
        await closeBackend();
      })();
      return closing;
    },
  };
}
