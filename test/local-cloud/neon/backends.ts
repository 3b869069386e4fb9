import { randomBytes } from 'node:crypto';
import { neonConfig } from '@neondatabase/serverless';
import type { NeonBackend } from '../../../tools/local-cloud/neon/index.ts';

/**
 * The Neon backends every Neon test runs on: the embedded PGlite always, the Postgres server
 * when `DATABASE_URL` is set (CI sets it).
 */
export const backends: Array<{ name: string; backend: NeonBackend }> = [
  { name: 'pglite', backend: { kind: 'pglite' } },
  ...(process.env.DATABASE_URL
    ? [
        {
          name: 'postgres server',
          backend: { kind: 'server', url: process.env.DATABASE_URL } as const,
        },
      ]
    : []),
];

/** Points the driver at whichever local proxy a connection string names (HTTP and WebSocket). */
export function useLocalNeon(): void {
  neonConfig.fetchEndpoint = (host, port) => `http://${host}:${port}/sql`;
  neonConfig.wsProxy = (host, port) => `${host}:${port}/v2`;
  neonConfig.useSecureWebSocket = false;
  neonConfig.pipelineTLS = false;
}

/** A table name no other test (or concurrent test file on the shared server) uses. */
export function uniqueTable(label: string): string {
  return `t_${label}_${randomBytes(4).toString('hex')}`;
}

/** A response body as JSON, for assertions on its fields. */
export async function jsonBody(response: Response): Promise<Record<string, unknown>> {
  return (await response.json()) as Record<string, unknown>;
}
