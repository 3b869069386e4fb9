import { describe, expect, it } from 'vitest';
import { ContentResource } from '../../../../shared/content/schema.ts';
import { contentEtag, contentResource, ifMatchHolds } from '../../../../shared/content/view.ts';
import type { ContentSnapshot } from '../../../../shared/db/schema/content.ts';

const ID = 'cnt_01jd5x3k7yf0v9r2m4q6s8t1wz';
const snapshot: ContentSnapshot = {
  id: ID,
  org_id: 'org_01jd5x3k7yf0v9r2m4q6s8t1wz',
  status: 'approved',
  version: 3,
  category_id: null,
  tags: [],
  metadata: {},
  default_locale: 'ar',
  publish_at: '2030-01-01T00:00:00.000Z',
  unpublish_at: null,
  published_at: null,
  created_by: null,
  updated_by: null,
  created_at: '2025-01-01T00:00:00.000Z',
  updated_at: '2025-01-02T00:00:00.000Z',
  deleted_at: null,
  translations: {
    en: { title: 'Hello', summary: null, body: '', slug: 'hello' },
    ar: { title: 'مرحبا', summary: null, body: '', slug: 'مرحبا' },
  },
};

describe('contentResource', () => {
  it('returns every translation when no locale is asked for', () => {
    const { resource, resolution } = contentResource(snapshot);
    expect(resolution).toBeNull();
    expect(resource).toEqual({
      ...snapshot,
      scheduled: true,
      available_locales: ['ar', 'en'],
      locale: null,
    });
    expect(ContentResource.parse(resource)).toEqual(resource);
  });

  it('serves the requested locale only', () => {
    const { resource } = contentResource(snapshot, { locales: ['en'] });
    expect(resource.locale).toBe('en');
    expect(resource.translations).toEqual({ en: snapshot.translations.en });
    expect(resource.available_locales).toEqual(['ar', 'en']);
  });

  it('falls back along the chain and says what it tried', () => {
    const { resource, resolution } = contentResource(snapshot, {
      locales: ['fr-CA'],
      orgDefaultLocale: 'en',
    });
    expect(resource.locale).toBe('ar');
    expect(resource.translations).toEqual({ ar: snapshot.translations.ar });
    expect(resolution).toEqual({ locale: 'ar', tried: ['fr-CA', 'fr', 'ar'], fallback: true });
  });

  it('marks only approved items with publish_at as scheduled', () => {
    expect(contentResource({ ...snapshot, status: 'draft' }).resource.scheduled).toBe(false);
    expect(contentResource({ ...snapshot, publish_at: null }).resource.scheduled).toBe(false);
  });
});

describe('contentEtag and ifMatchHolds', () => {
  it('names the item, version and locale', () => {
    expect(contentEtag(ID, 3)).toBe(`"${ID}.v3"`);
    expect(contentEtag(ID, 3, 'ar-EG')).toBe(`"${ID}.v3.ar-EG"`);
  });

  it.each([
    ['*', true],
    [`"${ID}.v3"`, true],
    [`W/"${ID}.v3"`, true],
    [`"${ID}.v3.ar-EG"`, true],
    [`"${ID}.v2", "${ID}.v3.en"`, true],
    ['3', true],
    ['"3"', true],
    [`"${ID}.v2"`, false],
    [`"${ID}.v33"`, false],
    [`"cnt_01jd5x3k7yf0v9r2m4q6s8t1zz.v3"`, false],
    ['2', false],
    ['', false],
  ])('If-Match %j at version 3: %s', (header, holds) => {
    expect(ifMatchHolds(header, ID, 3)).toBe(holds);
  });
});
