import { z } from 'zod';
import type { EvaluationContext } from './rules.ts';

/** What an evaluation context may hold. */
export const CONTEXT_LIMITS = {
  attributes: 100,
  nameLength: 100,
  valueLength: 1_024,
  listValues: 100,
  targetingKeyLength: 256,
} as const;

const AttributeValue = z
  .union([
    z.string().max(CONTEXT_LIMITS.valueLength),
    z.number(),
    z.boolean(),
    z.array(z.string().max(CONTEXT_LIMITS.valueLength)).max(CONTEXT_LIMITS.listValues),
    z.null(),
  ])
  .meta({
    description:
      'An attribute: a string (at most 1,024 characters), a number, a boolean or a list of at most ' +
      '100 strings; `targetingKey` is a string of at most 256 characters.',
  });

/**
 * An evaluation context as OpenFeature sends it: a `targetingKey` (what rollouts and splits
 * bucket, and allow- and deny-lists name) and flat attributes: strings, numbers, booleans, lists
 * of strings (null is the same as absent). At most 100 attributes.
 */
export const EvaluationContextSchema = z
  .record(z.string().min(1).max(CONTEXT_LIMITS.nameLength), AttributeValue)
  .superRefine((context, ctx) => {
    if (Object.keys(context).length > CONTEXT_LIMITS.attributes) {
      ctx.addIssue({
        code: 'custom',
        message: `must have at most ${CONTEXT_LIMITS.attributes} attributes`,
      });
    }
    const key = context.targetingKey;
    if (key === undefined || key === null) return;
    if (typeof key !== 'string' || key.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['targetingKey'],
        message: 'must be a non-empty string',
      });
    } else if (key.length > CONTEXT_LIMITS.targetingKeyLength) {
      ctx.addIssue({
        code: 'custom',
        path: ['targetingKey'],
        message: `must be at most ${CONTEXT_LIMITS.targetingKeyLength} characters`,
      });
    }
  })
  .transform((context) => context as EvaluationContext)
  .meta({
    maxProperties: CONTEXT_LIMITS.attributes,
    description:
      'The evaluation context: `targetingKey` (at most 256 characters) and up to 100 attributes ' +
      '(strings of at most 1,024 characters, numbers, booleans, lists of at most 100 strings).',
    example: { targetingKey: 'user-42', country: 'SA', plan: 'pro', appVersion: '2.4.1' },
  });
