/** A phrase and its translation. In frames, `{s}` is the subject, `{p}` a place (see frames.ts). */
export type Pair = { en: string; ar: string };

/** A body sentence; `midParagraph` ones ("Yet…", "غير أن…") never open a paragraph. */
export type Sentence = Pair & { midParagraph?: boolean };

/**
 * What an item is about. Arabic subjects are definite noun phrases with no sound masculine
 * plural or dual at their head, so they read correctly in every slot the frames give them (after
 * a preposition, as the second term of an idafa, after إن) without case changes; frames never
 * put an adjective or a verb that would have to agree with them after them.
 */
export type Subject = Pair & {
  /** Slug of the subcategory items about this subject belong to, if any. */
  sub?: string;
  tags: string[];
};

export type CategoryBank = {
  slug: string;
  names: Pair;
  descriptions: Pair;
  subcategories: Array<{ slug: string; names: Pair }>;
  subjects: Subject[];
  /**
   * Sentences for bodies, without slots. In Arabic, `{w}` marks the conjunction و: it is
   * written inside a paragraph and dropped when the sentence opens one.
   */
  sentences: Sentence[];
};
