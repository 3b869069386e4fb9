import type { FlagDefinitionInput } from '../../../shared/flags/schema.ts';

const onOff = [
  { key: 'on', value: true },
  { key: 'off', value: false },
];

/**
 * The sample feature flags of `npm run dev`, one of each kind of targeting: a feature behind its
 * kill switch, a percentage rollout (after a regex allow for the team and a deny-list), a string
 * flag split three ways, a semver rule on the app's version, a number flag by plan. Each has a
 * fixed salt, so a targeting key lands in the same bucket on every machine (what the dev test
 * checks against `evaluateFlag`). Evaluate them with `POST /v1/flags/evaluate` or OFREP.
 */
export const SAMPLE_FLAGS: (FlagDefinitionInput & { salt: string })[] = [
  {
    key: 'ai-answers',
    type: 'boolean',
    description:
      'Written answers above search results for paying plans. Kill switch on while answer ' +
      'quality is reviewed: everyone gets "off" (reason DISABLED) until it is turned off.',
    variants: onOff,
    default_variant: 'off',
    rules: [
      {
        description: 'Paying plans',
        conditions: [{ attribute: 'plan', operator: 'in', value: ['pro', 'enterprise'] }],
        variant: 'on',
      },
    ],
    allow: [],
    deny: [],
    kill_switch: true,
    salt: 'sample-ai-answers',
  },
  {
    key: 'new-editor',
    type: 'boolean',
    description:
      'The new article editor: everyone at sift-demo.example, then 25% of other users by ' +
      'targeting key; the QA robot never sees it.',
    variants: onOff,
    default_variant: 'off',
    rules: [
      {
        description: 'The team',
        conditions: [{ attribute: 'email', operator: 'matches', value: '@sift-demo\\.example$' }],
        variant: 'on',
      },
      {
        description: 'A quarter of everyone else',
        conditions: [],
        rollout: { variant: 'on', percent: 25 },
      },
    ],
    allow: [],
    deny: ['qa-robot'],
    kill_switch: false,
    salt: 'sample-new-editor',
  },
  {
    key: 'homepage-layout',
    type: 'string',
    description:
      'Home page layout test in the Gulf and Egypt: half keep the classic list, a quarter each ' +
      'get cards or the magazine layout; elsewhere the classic list.',
    variants: [
      { key: 'classic', value: 'classic' },
      { key: 'cards', value: 'cards' },
      { key: 'magazine', value: 'magazine' },
    ],
    default_variant: 'classic',
    rules: [
      {
        conditions: [{ attribute: 'country', operator: 'in', value: ['SA', 'AE', 'EG'] }],
        split: [
          { variant: 'classic', weight: 50 },
          { variant: 'cards', weight: 25 },
          { variant: 'magazine', weight: 25 },
        ],
      },
    ],
    allow: [],
    deny: [],
    kill_switch: false,
    salt: 'sample-homepage-layout',
  },
  {
    key: 'offline-reading',
    type: 'boolean',
    description: 'Offline reading in the mobile apps, from app version 2.4.0 on iOS and Android.',
    variants: onOff,
    default_variant: 'off',
    rules: [
      {
        conditions: [
          { attribute: 'platform', operator: 'in', value: ['ios', 'android'] },
          { attribute: 'app_version', operator: 'semver_gte', value: '2.4.0' },
        ],
        variant: 'on',
      },
    ],
    allow: [],
    deny: [],
    kill_switch: false,
    salt: 'sample-offline-reading',
  },
  {
    key: 'upload-limit-mb',
    type: 'number',
    description: 'The largest document upload, in MB: 200 on the enterprise plan, 20 otherwise.',
    variants: [
      { key: 'standard', value: 20 },
      { key: 'large', value: 200 },
    ],
    default_variant: 'standard',
    rules: [
      {
        conditions: [{ attribute: 'plan', operator: 'equals', value: 'enterprise' }],
        variant: 'large',
      },
    ],
    allow: [],
    deny: [],
    kill_switch: false,
    salt: 'sample-upload-limit-mb',
  },
];
