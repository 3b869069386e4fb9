/**
 * An approximate token count, standing in for the models' tokenizers (which are not available
 * offline). Text splits into pieces: each Han, Hiragana or Katakana character is one token (as
 * in the models' vocabularies); a run of other letters, marks and digits is one token per
 * {@link CHARS_PER_WORD_PIECE} characters begun (most words are one token; a long word, or a
 * run of text without spaces, becomes several); every other non-space character (punctuation,
 * symbols) is one token. Whitespace counts nothing. Real tokenizers split more finely, so this
 * undercounts a little: it only decides when a text is "too long" and where truncation cuts.
 */
const PIECE =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]|[\p{L}\p{M}\p{N}]+|[^\s\p{L}\p{M}\p{N}]/gu;

/** Characters (UTF-16 code units) per token of a long run of letters or digits. */
export const CHARS_PER_WORD_PIECE = 10;

// Every piece is at least one code unit long, so at least one token.
const tokensOf = (piece: string) => Math.ceil(piece.length / CHARS_PER_WORD_PIECE);

/** The approximate number of tokens of `text` (see the module comment). */
export function countTokens(text: string): number {
  let count = 0;
  for (const match of text.matchAll(PIECE)) count += tokensOf(match[0]);
  return count;
}

/**
 * `text` cut after its first `maxTokens` tokens (as {@link countTokens} counts them), or `text`
 * itself when it is not longer. A long word may be cut inside, never inside a surrogate pair.
 */
export function truncateToTokens(text: string, maxTokens: number): string {
  let count = 0;
  // End of the last piece kept: the cut drops the whitespace after it.
  let kept = 0;
  for (const match of text.matchAll(PIECE)) {
    const piece = match[0];
    const tokens = tokensOf(piece);
    if (count + tokens > maxTokens) {
      const room = maxTokens - count;
      if (room === 0) return text.slice(0, kept);
      let end = match.index + room * CHARS_PER_WORD_PIECE;
      if (isLowSurrogate(text.charCodeAt(end))) end--;
      return text.slice(0, end);
    }
    count += tokens;
    kept = match.index + piece.length;
  }
  return text;
}

const isLowSurrogate = (code: number) => code >= 0xdc00 && code <= 0xdfff;
