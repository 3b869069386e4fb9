import type { Condition, EvaluationContext, FlagDefinition, Rule } from '../shared/flags/rules.ts';

/**
 * The flags and contexts of `bench:flags`, the same in Node, in workerd and through the API:
 * pure data and plain arithmetic (no `Math.random`), so every runtime evaluates exactly the
 * same definitions for exactly the same contexts.
 */

const COUNTRIES = ['SA', 'AE', 'EG', 'JO', 'MA', 'FR', 'DE', 'US', 'GB', 'IN'];
const PLANS = ['free', 'pro', 'team', 'enterprise'];
const PLATFORMS = ['ios', 'android', 'web'];

/** Context `i`: a targeting key and the attributes the rules look at. */
export function benchContext(i: number): EvaluationContext {
  return {
    targetingKey: `user-${i}`,
    email: i % 9 === 0 ? `staff-${i}@sift-demo.example` : `reader-${i}@mail.example`,
    country: COUNTRIES[i % COUNTRIES.length],
    plan: PLANS[(i >> 2) % PLANS.length],
    platform: PLATFORMS[i % PLATFORMS.length],
    app_version: `2.${i % 7}.${i % 5}`,
    seats: (i * 37) % 500,
    beta: i % 4 === 0,
  };
}

/** The one flag of the single-flag rows: conditions, a regex, a semver rule and a rollout. */
export const ONE_FLAG: FlagDefinition = {
  key: 'checkout-v2',
  type: 'boolean',
  variants: [
    { key: 'on', value: true },
    { key: 'off', value: false },
  ],
  default_variant: 'off',
  rules: [
    {
      conditions: [{ attribute: 'email', operator: 'matches', value: '@sift-demo\\.example$' }],
      variant: 'on',
    },
    {
      conditions: [
        { attribute: 'country', operator: 'in', value: ['SA', 'AE', 'EG'] },
        { attribute: 'app_version', operator: 'semver_gte', value: '2.3.0' },
      ],
      rollout: { variant: 'on', percent: 50 },
    },
    { conditions: [], rollout: { variant: 'on', percent: 10 } },
  ],
  allow: [{ variant: 'on', keys: ['user-1', 'user-2', 'user-3'] }],
  deny: ['user-13'],
  kill_switch: false,
  salt: 'bench-checkout-v2',
};

/** The rules of flag `n` of the set: a mix of every kind of targeting. */
function rulesOf(n: number): Rule[] {
  const country: Condition = {
    attribute: 'country',
    operator: 'in',
    value: COUNTRIES.slice(n % 4, (n % 4) + 4),
  };
  const plan: Condition = { attribute: 'plan', operator: 'equals', value: PLANS[n % 4]! };
  const seats: Condition = { attribute: 'seats', operator: 'gte', value: 50 + n };
  const version: Condition = {
    attribute: 'app_version',
    operator: 'semver_gte',
    value: `2.${n % 6}.0`,
  };
  const staff: Condition = {
    attribute: 'email',
    operator: 'matches',
    value: '^staff-\\d+@sift-demo\\.example$',
  };
  const platform: Condition = {
    attribute: 'platform',
    operator: 'not_in',
    value: ['web'],
  };
  switch (n % 5) {
    case 0:
      return [
        { conditions: [staff], variant: 'b' },
        { conditions: [country, version], rollout: { variant: 'b', percent: 30 } },
      ];
    case 1:
      return [
        { conditions: [plan, seats], variant: 'b' },
        {
          conditions: [country],
          split: [
            { variant: 'a', weight: 50 },
            { variant: 'b', weight: 30 },
            { variant: 'c', weight: 20 },
          ],
        },
      ];
    case 2:
      return [
        { conditions: [platform, version], variant: 'c' },
        { conditions: [], rollout: { variant: 'b', percent: 5 } },
      ];
    case 3:
      return [
        { conditions: [staff, plan], variant: 'b' },
        { conditions: [seats], rollout: { variant: 'c', percent: 25 } },
        {
          conditions: [],
          split: [
            { variant: 'a', weight: 34 },
            { variant: 'b', weight: 33 },
            { variant: 'c', weight: 33 },
          ],
        },
      ];
    default:
      return [{ conditions: [country, plan, version], variant: 'b' }];
  }
}

/** A set of `count` flags of the four types, each with two or three targeted rules. */
export function benchFlags(count: number): FlagDefinition[] {
  return Array.from({ length: count }, (_, n): FlagDefinition => {
    const type = (['boolean', 'string', 'number', 'json'] as const)[n % 4]!;
    const values: Record<typeof type, unknown[]> = {
      boolean: [false, true, true],
      string: ['classic', 'cards', 'magazine'],
      number: [10, 50, 200],
      json: [{ limit: 10 }, { limit: 50 }, { limit: 200 }],
    };
    return {
      key: `bench-${String(n).padStart(2, '0')}`,
      type,
      variants: ['a', 'b', 'c'].map((key, i) => ({ key, value: values[type][i] })),
      default_variant: 'a',
      rules: rulesOf(n),
      allow: n % 3 === 0 ? [{ variant: 'c', keys: [`user-${n}`, `user-${n + 100}`] }] : [],
      deny: n % 7 === 0 ? [`user-${n + 1}`] : [],
      kill_switch: n % 10 === 9,
      salt: `bench-salt-${n}`,
    };
  });
}

/** The many-flag rows' set size. */
export const MANY = 50;
