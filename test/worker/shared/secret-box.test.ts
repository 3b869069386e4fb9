import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { secretKeys, validateEnv } from '../../../shared/env.ts';
import {
  generateSecretsKey,
  openSecret,
  SecretUnreadable,
  sealSecret,
  secretsKeySetting,
} from '../../../shared/secret-box.ts';

const current = generateSecretsKey('k-current');
const previous = generateSecretsKey('k-previous');
const CONTEXT = 'webhook_sources:whs_1';

describe('secret box', () => {
  it('seals a secret so only its key and context open it, with a fresh IV every time', async () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw — ünïcødé ✓';
    const a = await sealSecret({ current }, secret, CONTEXT);
    const b = await sealSecret({ current }, secret, CONTEXT);
    expect(a).toMatch(/^v1\.k-current\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain('whsec_');
    expect(await openSecret({ current }, a, CONTEXT)).toEqual({ plaintext: secret, stale: false });
    // Another row's context, another key with the same id, a flipped byte: all refused.
    await expect(openSecret({ current }, a, 'webhook_sources:whs_2')).rejects.toThrow(
      SecretUnreadable,
    );
    await expect(
      openSecret({ current: generateSecretsKey('k-current') }, a, CONTEXT),
    ).rejects.toThrow(SecretUnreadable);
    const last = a.at(-2) === 'A' ? 'B' : 'A';
    await expect(
      openSecret({ current }, `${a.slice(0, -2)}${last}${a.at(-1)}`, CONTEXT),
    ).rejects.toThrow(SecretUnreadable);
  });

  it('opens what the previous key sealed during a rotation, and says to seal it again', async () => {
    const old = await sealSecret({ current: previous }, 'rotated', CONTEXT);
    expect(await openSecret({ current, previous }, old, CONTEXT)).toEqual({
      plaintext: 'rotated',
      stale: true,
    });
    // Once the previous key is gone, its values no longer open, and the error names the key.
    await expect(openSecret({ current }, old, CONTEXT)).rejects.toThrow(/k-previous/);
  });

  it('refuses malformed sealed values and key settings', async () => {
    for (const bad of ['', 'v1', 'v2.k-current.AAAA.AAAA', 'v1.k-current.AAAA', 'plain'])
      await expect(openSecret({ current }, bad, CONTEXT)).rejects.toThrow(SecretUnreadable);
    for (const bad of ['', 'nokid', `k.${'A'.repeat(42)}`, `bad kid.${'A'.repeat(43)}`])
      expect(secretsKeySetting.safeParse(bad).success, bad).toBe(false);
    expect(secretsKeySetting.safeParse(current).success).toBe(true);
  });

  it('is configured from SECRETS_KEY and SECRETS_PREVIOUS_KEY, each validated', async () => {
    const valid = validateEnv(env);
    if (!valid.ok) throw new Error(JSON.stringify(valid.problems));
    const keys = secretKeys(valid.env);
    expect(keys.current).toBe(env.SECRETS_KEY);
    expect(keys.previous).toBe((env as unknown as Record<string, unknown>).SECRETS_PREVIOUS_KEY);
    const sealed = await sealSecret(keys, 's', CONTEXT);
    expect((await openSecret(keys, sealed, CONTEXT)).plaintext).toBe('s');
    const broken = validateEnv({ ...env, SECRETS_KEY: 'not-a-key', SECRETS_PREVIOUS_KEY: '' });
    expect(broken.ok).toBe(false);
    if (!broken.ok) expect(broken.problems.map((p) => p.setting)).toEqual(['SECRETS_KEY']);
  });
});
