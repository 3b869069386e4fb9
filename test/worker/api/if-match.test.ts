import { describe, expect, it } from 'vitest';
import { AppError } from '../../../shared/errors.ts';
import { ifMatchAllows, ifMatchHeader, preconditionFailed } from '../../../workers/api/if-match.ts';

const ETAG = '"flg_01jd5x3k7yf0v9r2m4q6s8t1wz.3"';

describe('ifMatchAllows', () => {
  it('allows the current ETag, exactly', () => {
    expect(ifMatchAllows(ETAG, ETAG)).toBe(true);
    expect(ifMatchAllows(`  ${ETAG} `, ETAG)).toBe(true);
  });

  it('allows a list that names the current ETag anywhere in it', () => {
    expect(ifMatchAllows(`"flg_x.1", ${ETAG}`, ETAG)).toBe(true);
    expect(ifMatchAllows(`${ETAG},"flg_x.1"`, ETAG)).toBe(true);
  });

  it('allows `*`, alone or in a list', () => {
    expect(ifMatchAllows('*', ETAG)).toBe(true);
    expect(ifMatchAllows(' * ', ETAG)).toBe(true);
    expect(ifMatchAllows('"flg_x.1", *', ETAG)).toBe(true);
  });

  it('compares strongly: a weak tag never matches, even of the current state', () => {
    expect(ifMatchAllows(`W/${ETAG}`, ETAG)).toBe(false);
    expect(ifMatchAllows(`W/"flg_x.1", W/${ETAG}`, ETAG)).toBe(false);
  });

  it('refuses another state, another version or a list naming neither', () => {
    expect(ifMatchAllows('"flg_01jd5x3k7yf0v9r2m4q6s8t1wz.2"', ETAG)).toBe(false);
    expect(ifMatchAllows('"flg_x.1", "flg_x.2"', ETAG)).toBe(false);
  });

  it('refuses a malformed header', () => {
    for (const header of [
      '',
      ' ',
      ',',
      'flg_01jd5x3k7yf0v9r2m4q6s8t1wz.3',
      ETAG.slice(0, -1),
      `"${ETAG}"`,
      'W/',
      '**',
      '"*"',
    ]) {
      expect(ifMatchAllows(header, ETAG), header).toBe(false);
    }
  });

  it('asks a test of each listed tag when given one instead of an ETag', () => {
    const asked: string[] = [];
    const matches = (tag: string) => {
      asked.push(tag);
      return tag.startsWith('"doc_1.v2');
    };
    expect(ifMatchAllows('"doc_1.v1", "doc_1.v2.abc"', matches)).toBe(true);
    expect(asked).toEqual(['"doc_1.v1"', '"doc_1.v2.abc"']);
    expect(ifMatchAllows('"doc_1.v1"', matches)).toBe(false);
    expect(ifMatchAllows('*', () => false)).toBe(true);
  });
});

describe('ifMatchHeader', () => {
  it('takes an optional if-match, bounded only when asked', () => {
    const open = ifMatchHeader({ description: 'd', example: ETAG });
    const bounded = ifMatchHeader({ description: 'd', example: ETAG, maxLength: 5 });
    expect(open.parse({})).toEqual({});
    expect(open.parse({ 'if-match': 'x'.repeat(500) })).toEqual({ 'if-match': 'x'.repeat(500) });
    expect(bounded.safeParse({ 'if-match': '"abc"' }).success).toBe(true);
    expect(bounded.safeParse({ 'if-match': '"abcd"' }).success).toBe(false);
  });
});

describe('preconditionFailed', () => {
  it('is a 412 PRECONDITION_FAILED naming what changed, with the current ETag', () => {
    const error = preconditionFailed(ETAG, 'state of the flag');
    expect(error).toBeInstanceOf(AppError);
    expect(error.status).toBe(412);
    expect(error.code).toBe('PRECONDITION_FAILED');
    expect(error.message).toBe(`If-Match does not name the current state of the flag (${ETAG}).`);
    expect(error.extensions).toEqual({ current_etag: ETAG });
  });
});
