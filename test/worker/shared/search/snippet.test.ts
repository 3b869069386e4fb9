import { describe, expect, it } from 'vitest';
import {
  escapeHtml,
  highlight,
  highlightTerms,
  SNIPPET_CHARS,
  snippet,
} from '../../../../shared/search/snippet.ts';

describe('highlight', () => {
  it('marks the words whose stems the query has, escaping everything else', () => {
    const terms = highlightTerms(['running libraries']);
    expect(highlight('Libraries <run> late & the library runs', terms)).toBe(
      '<mark>Libraries</mark> &lt;<mark>run</mark>&gt; late &amp; the <mark>library</mark> <mark>runs</mark>',
    );
    expect(highlight('Nothing here', terms)).toBe('Nothing here');
  });

  it('marks Arabic words in their original spelling, diacritics and tatweel included', () => {
    const terms = highlightTerms(['الكتاب']);
    expect(highlight('قرأتُ كِتَـــابَ الطالب وبالكتاب', terms)).toBe(
      'قرأتُ <mark>كِتَـــابَ</mark> الطالب <mark>وبالكتاب</mark>',
    );
  });

  it('never marks stop words', () => {
    expect(highlight('the cat and the hat', highlightTerms(['the cat']))).toBe(
      'the <mark>cat</mark> and the hat',
    );
  });

  it('escapes quotes and ampersands', () => {
    expect(escapeHtml(`"a" & 'b' <c>`)).toBe('&quot;a&quot; &amp; &#39;b&#39; &lt;c&gt;');
  });
});

describe('snippet', () => {
  const filler = (n: number) => Array.from({ length: n }, (_, i) => `word${i}`).join(' ');

  it('picks the passage with the most matches, cut at word boundaries with ellipses', () => {
    const text = `${filler(40)} solar panel here, solar power there ${filler(40)} solar again`;
    const result = snippet(text, highlightTerms(['solar power']));
    expect(result.startsWith('…')).toBe(true);
    expect(result.endsWith('…')).toBe(true);
    expect(result).toContain(
      '<mark>solar</mark> panel here, <mark>solar</mark> <mark>power</mark>',
    );
    expect(result.replace(/<\/?mark>|…/g, '').length).toBeLessThanOrEqual(SNIPPET_CHARS);
    expect(result).not.toMatch(/…\S*word\d+[a-z]/);
  });

  it('opens the text when nothing matches, and keeps short texts whole', () => {
    const long = filler(100);
    const opening = snippet(long, highlightTerms(['absent']));
    expect(opening.startsWith('word0 word1')).toBe(true);
    expect(opening.endsWith('…')).toBe(true);
    expect(snippet('Short solar text.', highlightTerms(['solar']))).toBe(
      'Short <mark>solar</mark> text.',
    );
    expect(snippet('', highlightTerms(['solar']))).toBe('');
  });
});
