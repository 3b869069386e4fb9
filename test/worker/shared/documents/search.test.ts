import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../../../../shared/auth/permissions.ts';
import { permissionsOf } from '../../../../shared/auth/permissions.ts';
import {
  chunkFilter,
  groupByDocument,
  searchPassages,
} from '../../../../shared/documents/search.ts';
import { newId } from '../../../../shared/ids.ts';
import { resetBreakers } from '../../../../shared/resilience/circuit-breaker.ts';
import { createOrg, DEAD_URL, testServices } from '../../helpers.ts';
import { readyDocument } from '../../support/ready-documents.ts';

const member = (orgId: string, role: 'viewer' | 'admin' = 'viewer'): Principal => ({
  kind: 'user',
  userId: newId('user'),
  orgId,
  role,
  sessionId: newId('session'),
  generation: 0,
  superAdmin: false,
  permissions: permissionsOf(role),
});

let orgId: string;
let guide: string;

beforeAll(async () => {
  orgId = await createOrg('passages');
  guide = (
    await readyDocument(orgId, {
      title: 'Beekeeping guide',
      chunks: [
        'Hives are inspected every ten days during the swarming season.',
        'Honey is harvested when most cells of the frame are capped with wax.',
        'Winter feeding uses thick sugar syrup or fondant.',
      ],
    })
  ).id;
});

afterEach(() => resetBreakers());

describe('searchPassages', () => {
  it('fuses the three retrievers, best passage first, each vouched for by Postgres', async () => {
    const found = await searchPassages(testServices(), {
      orgId,
      principal: member(orgId),
      text: 'when is honey harvested',
      mode: 'hybrid',
    });
    expect(found.degraded).toEqual([]);
    const [best] = found.passages;
    expect(best).toMatchObject({ documentId: guide, chunkIndex: 1, title: 'Beekeeping guide' });
    expect(best!.keyword).not.toBeNull();
    expect(best!.sparse).not.toBeNull();
    expect(best!.fused).toBe(1);
    expect(best!.text).toContain('capped with wax');
  });

  it('answers from Postgres alone when the vector index is down', async () => {
    const found = await searchPassages(testServices({ UPSTASH_VECTOR_REST_URL: DEAD_URL }), {
      orgId,
      principal: member(orgId),
      text: 'winter feeding syrup',
      mode: 'hybrid',
    });
    expect(found.degraded).toEqual(['vector_unavailable']);
    expect(found.passages[0]).toMatchObject({ documentId: guide, chunkIndex: 2, similarity: null });
  });

  it('finds by meaning alone in semantic mode', async () => {
    const found = await searchPassages(testServices(), {
      orgId,
      principal: member(orgId),
      text: 'hive inspections in swarming season',
      mode: 'semantic',
    });
    expect(found.passages[0]).toMatchObject({ documentId: guide, chunkIndex: 0, keyword: null });
    expect(found.passages[0]!.similarity).toBeGreaterThan(0.25);
  });

  it('throws when Postgres cannot vouch for what the index found', async () => {
    await expect(
      searchPassages(
        testServices({ DATABASE_URL: 'postgresql://postgres:postgres@127.0.0.1:9/postgres' }),
        { orgId, principal: member(orgId), text: 'honey', mode: 'hybrid' },
      ),
    ).rejects.toThrow();
  });

  it('narrows the index to what the caller may see, and leaves it open to admins', () => {
    const viewer = member(orgId);
    expect(chunkFilter({ orgId, principal: viewer, text: 'x', mode: 'hybrid' })).toContain(
      `uploaded_by = '${viewer.kind === 'user' ? viewer.userId : ''}'`,
    );
    expect(
      chunkFilter({ orgId, principal: member(orgId, 'admin'), text: 'x', mode: 'hybrid' }),
    ).toBe('');
    expect(
      chunkFilter({
        orgId,
        principal: member(orgId, 'admin'),
        text: 'x',
        mode: 'hybrid',
        documentIds: ["doc_'x"],
        locale: 'ar-EG',
      }),
    ).toBe("language = 'ar' AND document_id IN ('doc_\\'x')");
  });

  it('groups passages by document, best document first, a few passages each', () => {
    const passage = (documentId: string, chunkIndex: number, fused: number) =>
      ({ documentId, chunkIndex, fused }) as Parameters<typeof groupByDocument>[0][number];
    const grouped = groupByDocument(
      [passage('a', 0, 1), passage('b', 3, 0.9), passage('a', 1, 0.8), passage('a', 2, 0.7)],
      2,
    );
    expect(grouped.map((d) => [d.documentId, d.passages.map((p) => p.chunkIndex)])).toEqual([
      ['a', [0, 1]],
      ['b', [3]],
    ]);
  });
});
