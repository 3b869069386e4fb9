import { describe, expect, it } from 'vitest';
import { bucketOf } from '../../../../shared/flags/bucket.ts';
import { evaluateFlag } from '../../../../shared/flags/evaluate.ts';
import {
  type Condition,
  compareSemver,
  conditionMatches,
  type FlagDefinition,
  parseSemver,
  regexProblem,
} from '../../../../shared/flags/rules.ts';

const flag = (over: Partial<FlagDefinition> = {}): FlagDefinition => ({
  key: 'new-checkout',
  type: 'boolean',
  variants: [
    { key: 'on', value: true },
    { key: 'off', value: false },
  ],
  default_variant: 'off',
  rules: [],
  allow: [],
  deny: [],
  kill_switch: false,
  salt: 'salt-1',
  ...over,
});

const matches = (condition: Condition, context: Record<string, unknown>) =>
  conditionMatches(condition, context);

describe('evaluateFlag', () => {
  it('serves the default as STATIC when the flag has no targeting', () => {
    expect(evaluateFlag(flag(), { targetingKey: 'u1' })).toEqual({
      key: 'new-checkout',
      value: false,
      variant: 'off',
      reason: 'STATIC',
    });
  });

  it('serves the first matching rule as TARGETING_MATCH, naming it', () => {
    const f = flag({
      rules: [
        { conditions: [{ attribute: 'plan', operator: 'equals', value: 'free' }], variant: 'off' },
        {
          conditions: [{ attribute: 'country', operator: 'in', value: ['SA', 'AE'] }],
          variant: 'on',
        },
      ],
    });
    expect(evaluateFlag(f, { targetingKey: 'u1', country: 'SA' })).toMatchObject({
      value: true,
      reason: 'TARGETING_MATCH',
      rule: 1,
    });
    expect(evaluateFlag(f, { targetingKey: 'u1', country: 'SA', plan: 'free' })).toMatchObject({
      value: false,
      rule: 0,
    });
    expect(evaluateFlag(f, { targetingKey: 'u1', country: 'FR' })).toMatchObject({
      value: false,
      reason: 'DEFAULT',
    });
  });

  it('lets the kill switch win over the allow-list and every rule', () => {
    const f = flag({
      kill_switch: true,
      allow: [{ variant: 'on', keys: ['u1'] }],
      rules: [{ conditions: [], variant: 'on' }],
    });
    expect(evaluateFlag(f, { targetingKey: 'u1' })).toMatchObject({
      value: false,
      variant: 'off',
      reason: 'DISABLED',
    });
  });

  it('applies the deny-list before the allow-lists and rules, then the allow-lists', () => {
    const f = flag({
      deny: ['blocked'],
      allow: [{ variant: 'on', keys: ['vip'] }],
      rules: [{ conditions: [], variant: 'on' }],
      default_variant: 'off',
    });
    expect(evaluateFlag(f, { targetingKey: 'blocked' })).toMatchObject({
      variant: 'off',
      reason: 'TARGETING_MATCH',
      rule: -1,
    });
    expect(evaluateFlag(f, { targetingKey: 'vip' })).toMatchObject({ variant: 'on', rule: -1 });
    expect(evaluateFlag(f, { targetingKey: 'other' })).toMatchObject({ variant: 'on', rule: 0 });
  });

  it('serves a rollout as SPLIT to keys whose bucket is in, others fall through', () => {
    const f = flag({ rules: [{ conditions: [], rollout: { variant: 'on', percent: 30 } }] });
    for (let i = 0; i < 200; i++) {
      const key = `user-${i}`;
      const inside = bucketOf('salt-1', key) < 3_000;
      expect(evaluateFlag(f, { targetingKey: key })).toMatchObject(
        inside
          ? { variant: 'on', reason: 'SPLIT', rule: 0 }
          : { variant: 'off', reason: 'DEFAULT' },
      );
    }
  });

  it('buckets a rule by its own salt when it has one', () => {
    const f = flag({
      rules: [{ conditions: [], rollout: { variant: 'on', percent: 50 }, salt: 'other' }],
    });
    for (let i = 0; i < 50; i++) {
      const key = `k${i}`;
      expect(evaluateFlag(f, { targetingKey: key }).variant).toBe(
        bucketOf('other', key) < 5_000 ? 'on' : 'off',
      );
    }
  });

  it('serves a split by cumulative ranges in order', () => {
    const f = flag({
      type: 'string',
      variants: [
        { key: 'a', value: 'A' },
        { key: 'b', value: 'B' },
      ],
      default_variant: 'a',
      rules: [
        {
          conditions: [],
          split: [
            { variant: 'a', weight: 40 },
            { variant: 'b', weight: 60 },
          ],
        },
      ],
    });
    const counts = { a: 0, b: 0 };
    for (let i = 0; i < 5_000; i++) {
      const result = evaluateFlag(f, { targetingKey: `k${i}` });
      expect(result.reason).toBe('SPLIT');
      expect(result.variant).toBe(bucketOf('salt-1', `k${i}`) < 4_000 ? 'a' : 'b');
      counts[result.variant as 'a' | 'b']++;
    }
    expect(Math.abs(counts.a - 2_000)).toBeLessThan(150);
  });

  it('answers TARGETING_KEY_MISSING with the default when a rollout needs a key', () => {
    const f = flag({ rules: [{ conditions: [], rollout: { variant: 'on', percent: 50 } }] });
    expect(evaluateFlag(f, {})).toMatchObject({
      value: false,
      reason: 'ERROR',
      errorCode: 'TARGETING_KEY_MISSING',
    });
  });

  it('evaluates fixed-variant rules without a targeting key', () => {
    const f = flag({
      rules: [
        { conditions: [{ attribute: 'beta', operator: 'equals', value: true }], variant: 'on' },
      ],
    });
    expect(evaluateFlag(f, { beta: true })).toMatchObject({ variant: 'on' });
  });
});

describe('conditions', () => {
  it('compare equals, not_equals, in and not_in; a missing attribute never matches', () => {
    expect(matches({ attribute: 'a', operator: 'equals', value: 'x' }, { a: 'x' })).toBe(true);
    expect(matches({ attribute: 'a', operator: 'equals', value: 1 }, { a: '1' })).toBe(false);
    expect(matches({ attribute: 'a', operator: 'not_equals', value: 'x' }, { a: 'y' })).toBe(true);
    expect(matches({ attribute: 'a', operator: 'not_equals', value: 'x' }, {})).toBe(false);
    expect(matches({ attribute: 'a', operator: 'in', value: ['x', 'y'] }, { a: 'y' })).toBe(true);
    expect(matches({ attribute: 'a', operator: 'not_in', value: ['x'] }, { a: 'y' })).toBe(true);
    expect(matches({ attribute: 'a', operator: 'not_in', value: ['x'] }, {})).toBe(false);
  });

  it('match an array attribute when any element does (none, for negations)', () => {
    const ctx = { groups: ['staff', 'beta'] };
    expect(matches({ attribute: 'groups', operator: 'equals', value: 'beta' }, ctx)).toBe(true);
    expect(matches({ attribute: 'groups', operator: 'in', value: ['x', 'staff'] }, ctx)).toBe(true);
    expect(matches({ attribute: 'groups', operator: 'not_in', value: ['staff'] }, ctx)).toBe(false);
    expect(matches({ attribute: 'groups', operator: 'not_equals', value: 'x' }, ctx)).toBe(true);
    expect(matches({ attribute: 'groups', operator: 'gt', value: 1 }, ctx)).toBe(false);
  });

  it('compare numbers, and only numbers, numerically', () => {
    expect(matches({ attribute: 'n', operator: 'gt', value: 5 }, { n: 6 })).toBe(true);
    expect(matches({ attribute: 'n', operator: 'gte', value: 5 }, { n: 5 })).toBe(true);
    expect(matches({ attribute: 'n', operator: 'lt', value: 5 }, { n: 5 })).toBe(false);
    expect(matches({ attribute: 'n', operator: 'lte', value: 5 }, { n: 5 })).toBe(true);
    expect(matches({ attribute: 'n', operator: 'gt', value: 5 }, { n: '6' })).toBe(false);
  });

  it('compare semantic versions by SemVer 2.0 precedence', () => {
    const gte = (v: string) =>
      matches({ attribute: 'v', operator: 'semver_gte', value: '2.1.0' }, { v });
    expect(gte('2.1.0')).toBe(true);
    expect(gte('v2.10.0')).toBe(true);
    expect(gte('2.9.9')).toBe(true);
    expect(gte('2.1.0-beta.1')).toBe(false);
    expect(gte('1.99.0')).toBe(false);
    expect(gte('not.a.version')).toBe(false);
    const order = [
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-alpha.beta',
      '1.0.0-beta',
      '1.0.0-beta.2',
      '1.0.0-beta.11',
      '1.0.0-rc.1',
      '1.0.0',
    ];
    for (let i = 1; i < order.length; i++) {
      const a = parseSemver(order[i - 1] as string);
      const b = parseSemver(order[i] as string);
      expect(a && b && compareSemver(a, b), `${order[i - 1]} < ${order[i]}`).toBe(-1);
    }
    expect(
      matches({ attribute: 'v', operator: 'semver_eq', value: '1.0.0' }, { v: '1.0.0+build.5' }),
    ).toBe(true);
  });

  it('match regular expressions, never on values over 1,024 characters', () => {
    const cond: Condition = { attribute: 'email', operator: 'matches', value: '@example\\.com$' };
    expect(matches(cond, { email: 'a@example.com' })).toBe(true);
    expect(matches(cond, { email: 'a@example.org' })).toBe(false);
    expect(matches(cond, { email: `${'a'.repeat(1_100)}@example.com` })).toBe(false);
  });

  it('see targetingKey as an attribute', () => {
    expect(
      matches(
        { attribute: 'targetingKey', operator: 'matches', value: '^staff-' },
        { targetingKey: 'staff-1' },
      ),
    ).toBe(true);
  });
});

describe('regexProblem', () => {
  it('accepts plain patterns, classes and quantified groups without inner repetition', () => {
    for (const pattern of [
      '^a.*z$',
      '[a-z]+@x\\.com',
      '(ab)+',
      '^(\\d{3})-\\d{4}$',
      '[(+*)]+',
      'a|b',
    ]) {
      expect(regexProblem(pattern), pattern).toBeUndefined();
    }
  });

  it('refuses nested quantifiers, quantified alternations, backreferences and lookarounds', () => {
    expect(regexProblem('(a+)+$')).toMatch(/quantifier/);
    expect(regexProblem('(a*)*')).toMatch(/quantifier/);
    expect(regexProblem('((ab)*c)+')).toMatch(/quantifier/);
    expect(regexProblem('(a|aa)+')).toMatch(/alternation/);
    expect(regexProblem('(a)\\1')).toMatch(/backreference/);
    expect(regexProblem('(?<x>a)\\k<x>')).toMatch(/backreference/);
    expect(regexProblem('a(?=b)')).toMatch(/lookahead/);
    expect(regexProblem('(?<!a)b')).toMatch(/lookbehind/);
  });

  it('refuses invalid and over-long patterns', () => {
    expect(regexProblem('(')).toMatch(/valid regular expression/);
    expect(regexProblem('a'.repeat(257))).toMatch(/at most 256/);
  });
});
