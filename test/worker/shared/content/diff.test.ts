import { describe, expect, it } from 'vitest';
import { diffSnapshots, jsonEqual, restoreAsNew } from '../../../../shared/content/diff.ts';
import type { ContentSnapshot } from '../../../../shared/db/schema/content.ts';

const v1: ContentSnapshot = {
  id: 'cnt_01jd5x3k7yf0v9r2m4q6s8t1wz',
  org_id: 'org_01jd5x3k7yf0v9r2m4q6s8t1wz',
  status: 'draft',
  version: 1,
  category_id: null,
  tags: ['energy'],
  metadata: { source: 'wire', seo: { title: 'Solar', keywords: ['sun'] }, 'a.b': 1 },
  default_locale: 'en',
  publish_at: null,
  unpublish_at: null,
  published_at: null,
  created_by: 'usr_01jd5x3k7yf0v9r2m4q6s8t1wa',
  updated_by: 'usr_01jd5x3k7yf0v9r2m4q6s8t1wa',
  created_at: '2025-01-01T00:00:00.000Z',
  updated_at: '2025-01-01T00:00:00.000Z',
  deleted_at: null,
  translations: {
    en: { title: 'Solar power', summary: null, body: 'Old body', slug: 'solar-power' },
    ar: { title: 'الطاقة الشمسية', summary: null, body: 'نص', slug: 'الطاقة-الشمسية' },
  },
};

const v2: ContentSnapshot = {
  ...v1,
  status: 'published',
  version: 2,
  category_id: 'cat_01jd5x3k7yf0v9r2m4q6s8t1wz',
  tags: ['energy', 'solar'],
  metadata: { seo: { title: 'Sun', keywords: ['sun'] }, 'a.b': 1, المؤلف: 'سارة' },
  published_at: '2025-01-03T00:00:00.000Z',
  updated_by: 'usr_01jd5x3k7yf0v9r2m4q6s8t1wb',
  updated_at: '2025-01-03T00:00:00.000Z',
  translations: {
    en: {
      title: 'Solar power',
      summary: 'Now with a summary',
      body: 'New body',
      slug: 'solar-power',
    },
    fr: { title: 'Énergie solaire', summary: null, body: '', slug: 'energie-solaire' },
  },
};

describe('diffSnapshots', () => {
  it('lists every changed field in a stable order', () => {
    expect(diffSnapshots(v1, v2)).toEqual([
      { path: 'status', kind: 'changed', before: 'draft', after: 'published' },
      {
        path: 'category_id',
        kind: 'changed',
        before: null,
        after: 'cat_01jd5x3k7yf0v9r2m4q6s8t1wz',
      },
      { path: 'tags', kind: 'changed', before: ['energy'], after: ['energy', 'solar'] },
      { path: 'published_at', kind: 'changed', before: null, after: '2025-01-03T00:00:00.000Z' },
      { path: 'translations.ar', kind: 'removed', before: v1.translations.ar, after: null },
      {
        path: 'translations.en.summary',
        kind: 'changed',
        before: null,
        after: 'Now with a summary',
      },
      { path: 'translations.en.body', kind: 'changed', before: 'Old body', after: 'New body' },
      { path: 'translations.fr', kind: 'added', before: null, after: v2.translations.fr },
      { path: 'metadata.seo.title', kind: 'changed', before: 'Solar', after: 'Sun' },
      { path: 'metadata.source', kind: 'removed', before: 'wire', after: null },
      { path: 'metadata.المؤلف', kind: 'added', before: null, after: 'سارة' },
    ]);
  });

  it('returns nothing for identical snapshots, and ignores bookkeeping fields', () => {
    expect(diffSnapshots(v1, structuredClone(v1))).toEqual([]);
    expect(
      diffSnapshots(v1, {
        ...v1,
        version: 9,
        updated_at: '2030-01-01T00:00:00.000Z',
        updated_by: null,
      }),
    ).toEqual([]);
  });

  it('is the reverse when the arguments are swapped', () => {
    const forward = diffSnapshots(v1, v2);
    const backward = diffSnapshots(v2, v1);
    expect(backward.map((c) => c.path).sort()).toEqual(forward.map((c) => c.path).sort());
    for (const change of backward) {
      const twin = forward.find((c) => c.path === change.path)!;
      expect(change.before).toEqual(twin.after);
      expect(change.after).toEqual(twin.before);
    }
  });

  it('quotes metadata keys that are not identifiers', () => {
    const a = { ...v1, metadata: { 'a.b': 1, 'with space': { x: 1 } } };
    const b = { ...v1, metadata: { 'a.b': 2, 'with space': { x: 2 } } };
    expect(diffSnapshots(a, b).map((c) => c.path)).toEqual([
      'metadata["a.b"]',
      'metadata["with space"].x',
    ]);
  });

  it('reports an array or a type change in metadata as one change', () => {
    const a = { ...v1, metadata: { list: [1, 2], obj: { x: 1 } } };
    const b = { ...v1, metadata: { list: [1, 3], obj: 'flat' } };
    expect(diffSnapshots(a, b)).toEqual([
      { path: 'metadata.list', kind: 'changed', before: [1, 2], after: [1, 3] },
      { path: 'metadata.obj', kind: 'changed', before: { x: 1 }, after: 'flat' },
    ]);
  });

  it('tells a null metadata value from a removed one', () => {
    const a = { ...v1, metadata: { k: 'v' } };
    expect(diffSnapshots(a, { ...v1, metadata: { k: null } })).toEqual([
      { path: 'metadata.k', kind: 'changed', before: 'v', after: null },
    ]);
    expect(diffSnapshots(a, { ...v1, metadata: {} })).toEqual([
      { path: 'metadata.k', kind: 'removed', before: 'v', after: null },
    ]);
  });

  it('reports slug and title changes per locale', () => {
    const b = structuredClone(v1);
    b.translations.ar = { ...b.translations.ar!, title: 'الطاقة', slug: 'الطاقة' };
    expect(diffSnapshots(v1, b)).toEqual([
      { path: 'translations.ar.title', kind: 'changed', before: 'الطاقة الشمسية', after: 'الطاقة' },
      { path: 'translations.ar.slug', kind: 'changed', before: 'الطاقة-الشمسية', after: 'الطاقة' },
    ]);
  });
});

describe('jsonEqual', () => {
  it('compares deeply, ignoring key order', () => {
    expect(jsonEqual({ a: [1, { b: 2 }], c: null }, { c: null, a: [1, { b: 2 }] })).toBe(true);
    expect(jsonEqual({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    expect(jsonEqual([1, 2], [2, 1])).toBe(false);
    expect(jsonEqual({}, [])).toBe(false);
    expect(jsonEqual(null, {})).toBe(false);
  });
});

describe('restoreAsNew', () => {
  const v3: ContentSnapshot = { ...v2, version: 3, status: 'approved', deleted_at: null };
  const now = new Date('2025-02-01T00:00:00.000Z');

  it("brings back the old version's content as the next version", () => {
    const restored = restoreAsNew(v1, v3, { now, actorId: 'usr_01jd5x3k7yf0v9r2m4q6s8t1wc' });
    expect(restored).toEqual({
      ...v3,
      version: 4,
      category_id: null,
      tags: ['energy'],
      metadata: v1.metadata,
      default_locale: 'en',
      translations: v1.translations,
      updated_at: '2025-02-01T00:00:00.000Z',
      updated_by: 'usr_01jd5x3k7yf0v9r2m4q6s8t1wc',
    });
  });

  it('keeps the workflow state, schedule and creation of the current version', () => {
    const restored = restoreAsNew(v1, v3, { now });
    expect(restored).toMatchObject({
      status: 'approved',
      published_at: '2025-01-03T00:00:00.000Z',
      created_at: v1.created_at,
      created_by: v1.created_by,
      updated_by: null,
    });
  });

  it('leaves only content differences with the old version', () => {
    const restored = restoreAsNew(v1, v3, { now });
    expect(diffSnapshots(v1, restored).map((c) => c.path)).toEqual(['status', 'published_at']);
  });

  it('copies, so changing the result cannot change the old version', () => {
    const restored = restoreAsNew(v1, v3, { now });
    restored.translations.en!.title = 'changed';
    (restored.metadata.seo as { title: string }).title = 'changed';
    restored.tags.push('x');
    expect(v1.translations.en!.title).toBe('Solar power');
    expect((v1.metadata.seo as { title: string }).title).toBe('Solar');
    expect(v1.tags).toEqual(['energy']);
  });

  it('refuses versions of another item', () => {
    expect(() => restoreAsNew({ ...v1, id: 'cnt_01jd5x3k7yf0v9r2m4q6s8t1zz' }, v3)).toThrow(
      /cannot restore/,
    );
    expect(() => restoreAsNew({ ...v1, org_id: 'org_other' }, v3)).toThrow(/cannot restore/);
  });
});
