import { describe, expect, it } from 'vitest';
import {
  hashPassword,
  PASSWORD_ITERATIONS,
  passwordProblem,
  timingSafeEqual,
  verifyPassword,
} from '../../../shared/auth/passwords.ts';
import { weakHash } from '../support/password-hash.ts';

describe('passwordProblem', () => {
  it('accepts a long passphrase', () => {
    expect(passwordProblem('correct horse battery staple')).toBeUndefined();
    expect(passwordProblem('tangerine-lighthouse-47')).toBeUndefined();
  });

  it('refuses fewer than 12 characters, counting characters rather than bytes', () => {
    expect(passwordProblem('short pass1')).toBe('must be at least 12 characters');
    // 12 code points, more bytes: long enough.
    expect(passwordProblem('ĉĝĥĵŝŭ-ĉĝĥĵŝ')).toBeUndefined();
    // 11 emoji (22 UTF-16 units) are 11 characters: too short.
    expect(passwordProblem('🔑'.repeat(11))).toBe('must be at least 12 characters');
  });

  it('refuses more than 256 characters', () => {
    expect(passwordProblem('a quiet river '.repeat(19))).toBe('must be at most 256 characters');
  });

  it('refuses commonly used passwords, whatever their case', () => {
    for (const common of ['qwerty123456', 'LeaveMeAlone', '1qaz2wsx3edc']) {
      expect(passwordProblem(common)).toMatch(/commonly used password/);
    }
  });

  it('refuses a common password with digits or symbols stuck on either end', () => {
    expect(passwordProblem('password12345!')).toMatch(/commonly used password/);
    expect(passwordProblem('!!!iloveyou2024')).toMatch(/commonly used password/);
  });

  it('refuses one or two characters repeated', () => {
    expect(passwordProblem('zqzqzqzqzqzqzq')).toBe('must not repeat one or two characters');
    expect(passwordProblem('............')).toBeDefined();
  });

  it("refuses the account's e-mail address or its local part", () => {
    const email = 'ada.lovelace@example.com';
    expect(passwordProblem('my ada.lovelace@example.com pw', { email })).toBe(
      'must not contain your e-mail address',
    );
    expect(passwordProblem('Ada.Lovelace rules 1843', { email })).toBe(
      'must not contain your e-mail address',
    );
    expect(passwordProblem('tangerine-lighthouse-47', { email })).toBeUndefined();
  });
});

describe('hashPassword', () => {
  it('stores PBKDF2-SHA256 in versioned PHC format with the current iteration count', async () => {
    const hash = await hashPassword('correct horse battery staple');
    expect(hash).toMatch(
      new RegExp(
        `^\\$pbkdf2-sha256\\$v=1\\$i=${PASSWORD_ITERATIONS}\\$[A-Za-z0-9+/]{22}\\$[A-Za-z0-9+/]{43}$`,
      ),
    );
    expect(PASSWORD_ITERATIONS).toBe(100_000);
  });

  it('salts every hash, so one password never hashes the same twice', async () => {
    const [a, b] = await Promise.all([
      hashPassword('same password!'),
      hashPassword('same password!'),
    ]);
    expect(a).not.toBe(b);
    expect(a.split('$')[4]).not.toBe(b.split('$')[4]);
  });
});

describe('verifyPassword', () => {
  it('accepts the right password and asks for no rehash of a current hash', async () => {
    const hash = await hashPassword('correct horse battery staple');
    expect(await verifyPassword('correct horse battery staple', hash)).toEqual({
      ok: true,
      rehash: false,
    });
  });

  it('refuses a wrong password', async () => {
    const hash = await hashPassword('correct horse battery staple');
    expect(await verifyPassword('correct horse battery stapler', hash)).toEqual({
      ok: false,
      rehash: false,
    });
  });

  it('matches the same password typed in another Unicode normal form', async () => {
    const hash = await hashPassword('café crème brûlée');
    const decomposed = 'café crème brûlée'.normalize('NFD');
    expect(decomposed).not.toBe('café crème brûlée');
    expect((await verifyPassword(decomposed, hash)).ok).toBe(true);
  });

  it('answers false without a stored hash, after the same work as a real check', async () => {
    await verifyPassword('warm up the decoy', null);
    const hash = await hashPassword('correct horse battery staple');
    const time = async (stored: string | null) => {
      const started = performance.now();
      const result = await verifyPassword('wrong password guess', stored);
      expect(result).toEqual({ ok: false, rehash: false });
      return performance.now() - started;
    };
    const withUser: number[] = [];
    const without: number[] = [];
    for (let i = 0; i < 5; i++) {
      withUser.push(await time(hash));
      without.push(await time(null));
      without.push(await time(undefined as unknown as null));
    }
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    // The same PBKDF2 work: within a factor of two even on a loaded machine (typically ~1.0).
    const ratio = median(withUser) / median(without);
    expect(ratio).toBeGreaterThan(0.5);
    expect(ratio).toBeLessThan(2);
  });

  it('refuses a malformed or tampered stored hash', async () => {
    const hash = await hashPassword('correct horse battery staple');
    for (const stored of [
      '',
      'plaintext',
      hash.replace('pbkdf2-sha256', 'pbkdf2-sha1'),
      hash.replace('i=100000', 'i=0'),
      hash.replace('i=100000', 'i=100001'),
      hash.slice(0, -4),
    ]) {
      expect((await verifyPassword('correct horse battery staple', stored)).ok).toBe(false);
    }
  });

  it('asks for a rehash when the stored hash has fewer iterations than the policy', async () => {
    const old = await weakHash('correct horse battery staple', 1_000);
    expect(await verifyPassword('correct horse battery staple', old)).toEqual({
      ok: true,
      rehash: true,
    });
    // A wrong password never triggers a rehash (it must not be stored).
    expect(await verifyPassword('wrong horse battery staple', old)).toEqual({
      ok: false,
      rehash: false,
    });
  });
});

describe('timingSafeEqual', () => {
  const bytes = (...values: number[]) => new Uint8Array(values);

  it('is true only for identical byte strings', () => {
    expect(timingSafeEqual(bytes(1, 2, 3), bytes(1, 2, 3))).toBe(true);
    expect(timingSafeEqual(bytes(), bytes())).toBe(true);
    expect(timingSafeEqual(bytes(1, 2, 3), bytes(1, 2, 4))).toBe(false);
    expect(timingSafeEqual(bytes(0, 2, 3), bytes(1, 2, 3))).toBe(false);
  });

  it('is false for different lengths, including a prefix and the empty string', () => {
    expect(timingSafeEqual(bytes(1, 2, 3), bytes(1, 2))).toBe(false);
    expect(timingSafeEqual(bytes(1, 2), bytes(1, 2, 3))).toBe(false);
    expect(timingSafeEqual(bytes(1), bytes())).toBe(false);
    expect(timingSafeEqual(bytes(), bytes(0))).toBe(false);
  });

  it('compares every byte rather than stopping at the first difference', () => {
    // Behavioural proxy: differences at the start, middle and end are all caught.
    const a = crypto.getRandomValues(new Uint8Array(64));
    for (const index of [0, 31, 63]) {
      const b = a.slice();
      b[index] = b[index]! ^ 1;
      expect(timingSafeEqual(a, b)).toBe(false);
    }
  });
});
