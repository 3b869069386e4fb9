import { afterAll, beforeAll, expect } from 'vitest';
import {
  startWorkersAi,
  type WorkersAiService,
} from '../../../tools/local-cloud/workers-ai/index.ts';

export const TOKEN = 'test-workers-ai-token';
export const ACCOUNT = 'test-account';

/** Starts one local Workers AI on a free port for the file's tests; stops it after them. */
export function useWorkersAi(): { readonly service: WorkersAiService } {
  const holder = {} as { service: WorkersAiService };
  beforeAll(async () => {
    holder.service = await startWorkersAi({ port: 0, token: TOKEN, accountId: ACCOUNT });
  });
  afterAll(() => holder.service?.close());
  return holder;
}

export type Envelope = {
  result: unknown;
  success: boolean;
  errors: { code: number; message: string }[];
  messages: unknown[];
};

/**
 * A raw HTTP call: `POST {apiUrl}/accounts/{account}/ai/run/{model}` with the test token unless
 * `init` says otherwise. `body` is sent as given when a string, as JSON otherwise.
 */
export async function run(
  service: WorkersAiService,
  model: string,
  body: unknown,
  init: { token?: string | null; account?: string; method?: string } = {},
): Promise<{ status: number; body: Envelope }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const token = init.token === undefined ? TOKEN : init.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const response = await fetch(
    `${service.apiUrl}/accounts/${init.account ?? ACCOUNT}/ai/run/${model}`,
    {
      method: init.method ?? 'POST',
      headers,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    },
  );
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  return { status: response.status, body: (await response.json()) as Envelope };
}

/** Asserts Cloudflare's failure envelope with one error of `code`, and returns its message. */
export function expectFailure(
  answer: { status: number; body: Envelope },
  status: number,
  code: number,
  message?: string | RegExp,
): string {
  expect(answer.status).toBe(status);
  expect(Object.keys(answer.body).sort()).toEqual(['errors', 'messages', 'result', 'success']);
  expect(answer.body).toMatchObject({ result: null, success: false, messages: [] });
  expect(answer.body.errors).toHaveLength(1);
  const [error] = answer.body.errors;
  expect(error?.code).toBe(code);
  if (typeof message === 'string') expect(error?.message).toBe(message);
  else if (message) expect(error?.message).toMatch(message);
  return error?.message ?? '';
}

/** Euclidean length of a vector. */
export const norm = (vector: ArrayLike<number>) => Math.hypot(...Array.from(vector));
