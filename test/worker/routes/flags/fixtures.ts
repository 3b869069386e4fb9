import { expect } from 'vitest';
import { call } from '../../helpers.ts';
import { json } from '../keys/fixtures.ts';

export type Flag = {
  id: string;
  key: string;
  type: string;
  description: string | null;
  variants: { key: string; value: unknown }[];
  default_variant: string;
  rules: Record<string, unknown>[];
  allow: { variant: string; keys: string[] }[];
  deny: string[];
  kill_switch: boolean;
  salt: string;
  version: number;
  archived_at: string | null;
  created_by: string | null;
  updated_by: string | null;
  created_at: string;
  updated_at: string;
};

export type Auth = Record<string, string>;

/** A boolean flag `key` with variants on/off, default off, and `over` on top. */
export const booleanFlag = (key: string, over: Record<string, unknown> = {}) => ({
  key,
  type: 'boolean',
  variants: [
    { key: 'on', value: true },
    { key: 'off', value: false },
  ],
  default_variant: 'off',
  ...over,
});

/** Creates a flag through the API; its body and ETag. */
export async function createFlag(auth: Auth, body: unknown) {
  const response = await call('/v1/flags', json('POST', body, auth));
  expect(response.status, await response.clone().text()).toBe(201);
  return { flag: (await response.json()) as Flag, etag: response.headers.get('ETag')! };
}

/** Changes a flag through the API (expecting 200). */
export async function patchFlag(auth: Auth, key: string, body: unknown, headers: Auth = {}) {
  const response = await call(`/v1/flags/${key}`, json('PATCH', body, { ...auth, ...headers }));
  expect(response.status, await response.clone().text()).toBe(200);
  return { flag: (await response.json()) as Flag, etag: response.headers.get('ETag')! };
}
