import { describe, expect, it } from 'vitest';
import {
  ACTOR_REF_PATTERN,
  ActorRefSchema,
  actorType,
  isActorRef,
  SYSTEM_ACTOR,
} from '../../../shared/actor.ts';
import { newId } from '../../../shared/ids.ts';

describe('actor references', () => {
  it('name users, API keys and the system by their id, and nothing else', () => {
    expect(actorType(newId('user'))).toBe('user');
    expect(actorType(newId('apiKey'))).toBe('api_key');
    expect(actorType(newId('webhookSource'))).toBe('webhook_source');
    expect(actorType(SYSTEM_ACTOR)).toBe('system');
    for (const other of [newId('content'), 'usr_x', 'key_', 'SYSTEM', '', ` ${newId('user')}`]) {
      expect(actorType(other)).toBeNull();
      expect(isActorRef(other)).toBe(false);
    }
  });

  it('agree with the pattern Postgres enforces', () => {
    const pattern = new RegExp(ACTOR_REF_PATTERN);
    for (const ref of [
      newId('user'),
      newId('apiKey'),
      newId('webhookSource'),
      SYSTEM_ACTOR,
      'usr_x',
      newId('synonym'),
    ]) {
      expect(pattern.test(ref)).toBe(isActorRef(ref));
    }
  });

  it('parse as a reference or null, refusing anything else with the rule', () => {
    expect(ActorRefSchema.parse(null)).toBeNull();
    expect(ActorRefSchema.parse(SYSTEM_ACTOR)).toBe(SYSTEM_ACTOR);
    const refused = ActorRefSchema.safeParse('someone');
    expect(refused.success).toBe(false);
    expect(refused.error?.issues[0]?.message).toBe(
      'must be a user id (usr_…), an API key id (key_…), a webhook source id (whs_…) or system',
    );
  });
});
