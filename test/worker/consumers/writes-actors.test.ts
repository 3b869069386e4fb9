import { eq } from 'drizzle-orm';
import { beforeEach, describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR } from '../../../shared/actor.ts';
import { content, contentVersions, operations } from '../../../shared/db/schema/index.ts';
import { newId } from '../../../shared/ids.ts';
import { createOrg, testDb } from '../helpers.ts';
import { contentWrites } from './content-writes.ts';
import { deliver, recordingDlq } from './deliver.ts';

const db = testDb();

describe('the WRITES consumer records who made each change', () => {
  let orgId: string;
  let contentId: string;

  beforeEach(async () => {
    orgId = await createOrg('writes-actors');
    contentId = newId('content');
  });

  const { snapshot, write } = contentWrites(() => ({ orgId, contentId }), {
    translations: (version, id) => ({
      en: { title: `Actor v${version}`, summary: null, body: '', slug: `actor-${id}` },
    }),
    origin: { requestId: 'req-actors' },
  });

  it('stores an API key, a user and the system as the actors of versions, item and operations', async () => {
    const key = newId('apiKey');
    const user = newId('user');
    const writes = [
      write(1, { actorId: key, snapshot: snapshot(1, { created_by: key, updated_by: key }) }),
      write(2, { actorId: user, snapshot: snapshot(2, { created_by: key, updated_by: user }) }),
      write(3, {
        action: 'transition',
        actorId: SYSTEM_ACTOR,
        snapshot: snapshot(3, { created_by: key, updated_by: SYSTEM_ACTOR, status: 'published' }),
      }),
    ];
    const { result } = await deliver(
      'sift-writes',
      writes.map((w) => w.body),
    );
    expect(result.explicitAcks).toHaveLength(3);
    const versions = await db
      .select({ version: contentVersions.version, createdBy: contentVersions.createdBy })
      .from(contentVersions)
      .where(eq(contentVersions.contentId, contentId));
    expect(versions.sort((a, b) => a.version - b.version)).toEqual([
      { version: 1, createdBy: key },
      { version: 2, createdBy: user },
      { version: 3, createdBy: SYSTEM_ACTOR },
    ]);
    const [item] = await db.select().from(content).where(eq(content.id, contentId));
    expect(item).toMatchObject({ createdBy: key, updatedBy: SYSTEM_ACTOR, version: 3 });
    for (const [i, actor] of [key, user, SYSTEM_ACTOR].entries()) {
      const [row] = await db
        .select({ createdBy: operations.createdBy, status: operations.status })
        .from(operations)
        .where(eq(operations.id, writes[i]!.operationId));
      expect(row).toEqual({ createdBy: actor, status: 'applied' });
    }
  });

  it.each([
    ['an actor that is no one', { actorId: 'nobody' }],
    ['an id of something else', { actorId: newId('content') }],
  ])('dead-letters a write naming %s, writing nothing', async (_label, opts) => {
    const dlq = recordingDlq('WRITES_DLQ');
    const bad = write(1, opts);
    await deliver('sift-writes', [bad.body], { overrides: { WRITES_DLQ: dlq.queue } });
    expect((dlq.sent[0] as { dead_letter: { reason: string } }).dead_letter.reason).toContain(
      'actor_id',
    );
    expect(await db.select().from(content).where(eq(content.id, contentId))).toEqual([]);
  });

  it('dead-letters a snapshot whose created_by or updated_by is not an actor', async () => {
    const dlq = recordingDlq('WRITES_DLQ');
    const bad = write(1, { snapshot: snapshot(1, { updated_by: 'somebody' }) });
    await deliver('sift-writes', [bad.body], { overrides: { WRITES_DLQ: dlq.queue } });
    expect((dlq.sent[0] as { dead_letter: { reason: string } }).dead_letter.reason).toContain(
      'snapshot.updated_by',
    );
  });
});
