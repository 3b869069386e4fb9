import { describe, expect, it } from 'vitest';
import { FlagDefinitionSchema } from '../../../../shared/flags/schema.ts';
import { useHumanErrorMessages } from '../../../../shared/validation.ts';

useHumanErrorMessages();

const base = {
  key: 'new-checkout',
  type: 'boolean',
  variants: [
    { key: 'on', value: true },
    { key: 'off', value: false },
  ],
  default_variant: 'off',
};

/** The issues of parsing `body`, as `path: message`. */
const issues = (body: Record<string, unknown>) => {
  const result = FlagDefinitionSchema.safeParse({ ...base, ...body });
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('FlagDefinitionSchema', () => {
  it('accepts a sound definition and fills the defaults', () => {
    const parsed = FlagDefinitionSchema.parse({
      ...base,
      rules: [
        { conditions: [{ attribute: 'country', operator: 'in', value: ['SA'] }], variant: 'on' },
        { rollout: { variant: 'on', percent: 12.5 } },
      ],
    });
    expect(parsed).toMatchObject({ allow: [], deny: [], kill_switch: false });
    expect(parsed.rules[1]?.conditions).toEqual([]);
  });

  it('names a split that does not sum to 100', () => {
    expect(
      issues({
        rules: [
          {
            variant: 'on' as const,
            conditions: [{ attribute: 'a', operator: 'equals', value: 1 }],
          },
          { variant: 'on', conditions: [{ attribute: 'b', operator: 'equals', value: 1 }] },
          {
            split: [
              { variant: 'on', weight: 50 },
              { variant: 'off', weight: 40 },
            ],
          },
        ],
      }),
    ).toEqual(['rules.2.split: weights must sum to 100 (they sum to 90)']);
  });

  it('names an unknown operator', () => {
    expect(
      issues({
        rules: [{ variant: 'on', conditions: [{ attribute: 'a', operator: 'like', value: 'x' }] }],
      })[0],
    ).toMatch(/^rules\.0\.conditions\.0\.operator: must be one of: equals/);
  });

  it('names a runaway regular expression', () => {
    expect(
      issues({
        rules: [
          { variant: 'on', conditions: [{ attribute: 'a', operator: 'matches', value: '(a+)+$' }] },
        ],
      }),
    ).toEqual([
      'rules.0.conditions.0.value: must not repeat a group that contains a quantifier or an alternation',
    ]);
  });

  it('names values of the wrong type for the flag or the operator', () => {
    expect(
      issues({
        variants: [
          { key: 'on', value: 'yes' },
          { key: 'off', value: false },
        ],
        rules: [
          {
            variant: 'on',
            conditions: [
              { attribute: 'n', operator: 'gt', value: '5' },
              { attribute: 'v', operator: 'semver_gte', value: '1.2' },
              { attribute: 'c', operator: 'in', value: 'SA' },
            ],
          },
        ],
      }),
    ).toEqual([
      'variants.0.value: must be a boolean for a boolean flag',
      'rules.0.conditions.0.value: must be a number for gt',
      'rules.0.conditions.1.value: must be a semantic version (1.2.3, 2.0.0-beta.1) for semver_gte',
      'rules.0.conditions.2.value: must be an array for in',
    ]);
  });

  it('names variants that do not exist and repeated variant keys', () => {
    expect(
      issues({
        variants: [
          { key: 'on', value: true },
          { key: 'on', value: false },
        ],
        default_variant: 'maybe',
        rules: [{ rollout: { variant: 'nope', percent: 10 } }],
      }),
    ).toEqual([
      'variants.1.key: must not repeat variants.0.key',
      'default_variant: must name one of the variants (on)',
      'rules.0.rollout.variant: must name one of the variants (on)',
    ]);
  });

  it('names contradictions: a key allowed and denied, conditions no context meets', () => {
    expect(
      issues({
        deny: ['u1'],
        allow: [{ variant: 'on', keys: ['u2', 'u1'] }],
        rules: [
          {
            variant: 'on',
            conditions: [
              { attribute: 'plan', operator: 'equals', value: 'pro' },
              { attribute: 'plan', operator: 'equals', value: 'free' },
            ],
          },
          {
            variant: 'on',
            conditions: [
              { attribute: 'age', operator: 'gt', value: 30 },
              { attribute: 'age', operator: 'lt', value: 18 },
            ],
          },
          {
            variant: 'on',
            conditions: [
              { attribute: 'c', operator: 'in', value: ['SA'] },
              { attribute: 'c', operator: 'not_in', value: ['SA', 'AE'] },
            ],
          },
        ],
      }),
    ).toEqual([
      'allow.0.keys.1: contradicts deny.0 (both name "u1")',
      'rules.0.conditions.1: contradicts rules.0.conditions.0: no context meets both',
      'rules.1.conditions.1: contradicts rules.1.conditions.0: no context meets both',
      'rules.2.conditions.1: contradicts rules.2.conditions.0: no context meets both',
    ]);
  });

  it('names a rule left unreachable behind one that serves everyone', () => {
    expect(
      issues({
        rules: [
          { variant: 'on' },
          { variant: 'off', conditions: [{ attribute: 'a', operator: 'equals', value: 1 }] },
        ],
      }),
    ).toEqual(['rules.1: is unreachable: rules.0 serves every context before it']);
  });

  it('names a rule that serves nothing or two things', () => {
    expect(issues({ rules: [{ conditions: [] }] })).toEqual([
      'rules.0: must serve exactly one of variant, rollout or split',
    ]);
    expect(issues({ rules: [{ variant: 'on', rollout: { variant: 'on', percent: 5 } }] })).toEqual([
      'rules.0: must serve exactly one of variant, rollout or split',
    ]);
  });

  it('refuses percentages with more than two decimals or over 100', () => {
    expect(issues({ rules: [{ rollout: { variant: 'on', percent: 10.001 } }] })[0]).toMatch(
      /^rules\.0\.rollout\.percent: must be a multiple of 0\.01/,
    );
    expect(issues({ rules: [{ rollout: { variant: 'on', percent: 101 } }] })[0]).toMatch(
      /^rules\.0\.rollout\.percent:/,
    );
  });
});
