import { z } from 'zod';
import { isId } from './ids.ts';

/**
 * Who made a change, as every record of one names it (a content version, an item's creator and
 * last editor, an operation, a synonym set, an API key): an actor reference. Ids in Sift say
 * what they identify, so the reference is the actor's own id — a user (`usr_…`), an API key
 * (`key_…`) or an inbound webhook source (`whs_…`, for the content an upstream pushes in) — or {@link SYSTEM_ACTOR} for the platform's own jobs (scheduled publishing), which
 * act as no one. Null means unknown (imported items, rows from before actors were recorded).
 * The audit log names the same actors as a type and an id (`actor_type`, `actor_id`).
 */
export type ActorRef = string;

/** The platform itself (a cron job), acting as no user or key. */
export const SYSTEM_ACTOR = 'system';

export type ActorType = 'user' | 'api_key' | 'webhook_source' | 'system';

/** The type of an actor reference, or null when it is not one. */
export function actorType(ref: string): ActorType | null {
  if (ref === SYSTEM_ACTOR) return 'system';
  if (isId('user', ref)) return 'user';
  if (isId('apiKey', ref)) return 'api_key';
  if (isId('webhookSource', ref)) return 'webhook_source';
  return null;
}

/** Whether `ref` is an actor reference (a user, API key or webhook source id, or `system`). */
export const isActorRef = (ref: string) => actorType(ref) !== null;

/**
 * The rule a column holding an actor reference (or null) obeys, as a Postgres regular
 * expression: the id formats of `shared/ids.ts`, or `system`.
 */
export const ACTOR_REF_PATTERN = `^((usr|key|whs)_[0-7][0-9a-hjkmnp-tv-z]{25}|${SYSTEM_ACTOR})$`;

/** What the API says of a field holding an actor reference, after "Who did it: ". */
export const ACTOR_DESCRIPTION =
  'a user (`usr_…`), an API key (`key_…`), an inbound webhook source (`whs_…`) or `system` (the ' +
  'platform itself, such as scheduled publishing); null when unknown (imported items, records from before actors were kept)';

/** A stored or reported actor reference, or null; refuses anything else. */
export const ActorRefSchema = z
  .string()
  .refine(
    isActorRef,
    'must be a user id (usr_…), an API key id (key_…), a webhook source id (whs_…) or system',
  )
  .nullable();
