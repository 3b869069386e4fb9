import type { ContentStatus } from '../../../shared/db/schema/index.ts';
import { createRandom } from '../../../shared/random.ts';
import { CATEGORY_BANKS } from './categories.ts';
import {
  CLOSING_SENTENCES,
  PLACE_SENTENCES,
  PLACE_SUMMARY_FRAMES,
  PLACE_TITLE_FRAMES,
  PLACES,
  SUBJECT_SENTENCES,
  SUMMARY_FRAMES,
  TITLE_FRAMES,
} from './frames.ts';
import type { CategoryBank, Pair, Sentence, Subject } from './types.ts';

export type SampleLocale = 'en' | 'ar';

export type SampleText = { title: string; summary: string; body: string };

/**
 * One sample content item, fully determined by the seed: the same text, locales, status and
 * timing offsets on every run. Times are offsets in days from the moment of seeding.
 */
export type SampleItem = {
  /** The category (or subcategory) slug. */
  category: string;
  status: ContentStatus;
  defaultLocale: SampleLocale;
  translations: Partial<Record<SampleLocale, SampleText>>;
  tags: string[];
  metadata: Record<string, unknown>;
  /** Index into the writers (authors and editors) of SAMPLE_USERS. */
  writer: number;
  /** Days before seeding the item was created. */
  ageDays: number;
  /** Days after creation of the last update. */
  editedAfterDays: number;
  /** Days after creation it was first published (published and archived items). */
  publishedAfterDays: number | null;
  /** Days after seeding an approved item is scheduled to go live. */
  publishInDays: number | null;
  /** Days after seeding a published item is scheduled to be archived. */
  unpublishInDays: number | null;
};

type Random = () => number;

const pick = <T>(random: Random, items: readonly T[]): T => {
  const item = items[Math.floor(random() * items.length)];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
};

function shuffled<T>(random: Random, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const capitalise = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/**
 * Fills a frame. English: `{s}`/`{S}`, `{p}`/`{P}`. Arabic: `{s}`, `{p}` and `{w}`, the
 * conjunction و, written unless the sentence opens a paragraph.
 */
export function fill(
  frame: Pair,
  locale: SampleLocale,
  subject: Pair,
  place: Pair | undefined,
  opensParagraph = false,
): string {
  const text = frame[locale];
  if ((text.includes('{p}') || text.includes('{P}')) && !place) {
    throw new Error(`frame needs a place: ${text}`);
  }
  if (locale === 'ar') {
    return text
      .replaceAll('{w}', opensParagraph ? '' : 'و')
      .replaceAll('{s}', subject.ar)
      .replaceAll('{p}', place?.ar ?? '');
  }
  return text
    .replaceAll('{S}', capitalise(subject.en))
    .replaceAll('{s}', subject.en)
    .replaceAll('{P}', capitalise(place?.en ?? ''))
    .replaceAll('{p}', place?.en ?? '');
}

type Plan = { bank: CategoryBank; subject: Subject; frame: Pair; place?: (typeof PLACES)[number] };

/** Every (subject, title frame, place) combination of a category, subjects interleaved. */
function plansFor(bank: CategoryBank, random: Random): Plan[] {
  const perSubject = bank.subjects.map((subject) =>
    shuffled(random, [
      ...TITLE_FRAMES.map((frame) => ({ bank, subject, frame })),
      ...PLACE_TITLE_FRAMES.flatMap((frame) =>
        PLACES.map((place) => ({ bank, subject, frame, place })),
      ),
    ]),
  );
  // Round-robin over subjects, so a category's items spread over all its subjects.
  const out: Plan[] = [];
  for (let i = 0; perSubject.some((plans) => i < plans.length); i++) {
    for (const plans of perSubject) if (plans[i]) out.push(plans[i]!);
  }
  return out;
}

const STATUS_WEIGHTS: Array<[ContentStatus, number]> = [
  ['published', 55],
  ['draft', 14],
  ['in_review', 10],
  ['approved', 11],
  ['archived', 10],
];

function pickStatus(random: Random): ContentStatus {
  let roll = random() * 100;
  for (const [status, weight] of STATUS_WEIGHTS) {
    roll -= weight;
    if (roll < 0) return status;
  }
  return 'published';
}

/**
 * Builds the body: three or four paragraphs of three or four sentences, drawn without
 * repetition, the same choices for every locale so the translations match.
 */
function composeBody(random: Random, plan: Plan): (locale: SampleLocale) => string {
  const own = shuffled(random, plan.bank.sentences);
  const at = <T>(list: T[], i: number): T => {
    const item = list[i];
    if (item === undefined) throw new Error('phrase bank too small');
    return item;
  };
  const openers = shuffled(
    random,
    SUBJECT_SENTENCES.filter((s) => !s.midParagraph),
  );
  const [first, last] = [at(openers, 0), at(openers, 1)];
  const middle = shuffled(
    random,
    SUBJECT_SENTENCES.filter((s) => s !== first && s !== last),
  );
  const paragraphs: Sentence[][] = [
    [first, at(own, 0), at(own, 1)],
    plan.place
      ? [pick(random, PLACE_SENTENCES), at(own, 2), at(middle, 0), at(own, 3)]
      : [at(own, 2), at(middle, 0), at(own, 3)],
  ];
  if (random() < 0.6) paragraphs.push([at(own, 4), at(middle, 1), at(own, 5)]);
  paragraphs.push([last, at(own, 6), pick(random, CLOSING_SENTENCES)]);
  return (locale) =>
    paragraphs
      .map((sentences) =>
        sentences
          .map((sentence, i) => fill(sentence, locale, plan.subject, plan.place, i === 0))
          .join(' '),
      )
      .join('\n\n');
}

const wordCount = (text: string) => text.split(/\s+/).filter(Boolean).length;

/** The writers' indexes: authors and editors take turns, editors review. */
export const WRITER_COUNT = 5;

/**
 * `count` bilingual sample items spread evenly over the categories (default 360). Most have
 * both locales; about 15% only Arabic and 15% only English, so locale fallback has something
 * to show. Titles are unique per locale.
 */
export function composeSampleItems(count = 360, seed = 0x51f7): SampleItem[] {
  const random = createRandom(seed);
  const perCategory = CATEGORY_BANKS.map((bank) => plansFor(bank, random));
  const items: SampleItem[] = [];
  const seenTitles = new Set<string>();
  for (let round = 0; items.length < count; round++) {
    let progressed = false;
    for (const plans of perCategory) {
      if (items.length >= count) break;
      const plan = plans[round];
      if (!plan) continue;
      progressed = true;
      const item = composeItem(random, plan);
      const titles = Object.values(item.translations).map((t) => t.title);
      if (titles.some((title) => seenTitles.has(title))) continue;
      for (const title of titles) seenTitles.add(title);
      items.push(item);
    }
    if (!progressed) throw new Error(`the phrase banks yield fewer than ${count} items`);
  }
  return items;
}

function composeItem(random: Random, plan: Plan): SampleItem {
  const { subject, place } = plan;
  const roll = random();
  const locales: SampleLocale[] = roll < 0.7 ? ['ar', 'en'] : roll < 0.85 ? ['ar'] : ['en'];
  const defaultLocale: SampleLocale =
    locales.length === 2 ? (random() < 0.6 ? 'ar' : 'en') : locales[0]!;
  const summaryFrame =
    place && random() < 0.5 ? pick(random, PLACE_SUMMARY_FRAMES) : pick(random, SUMMARY_FRAMES);
  const body = composeBody(random, plan);
  const translations: Partial<Record<SampleLocale, SampleText>> = {};
  for (const locale of locales) {
    translations[locale] = {
      title: fill(plan.frame, locale, subject, place),
      summary: fill(summaryFrame, locale, subject, place, true),
      body: body(locale),
    };
  }
  const words = Math.max(...Object.values(translations).map((t) => wordCount(t.body)));

  const status = pickStatus(random);
  const ageDays = 2 + random() * 540;
  const editedAfterDays = random() * Math.min(ageDays - 1, 45);
  const published = status === 'published' || status === 'archived';
  return {
    category: subject.sub ?? plan.bank.slug,
    status,
    defaultLocale,
    translations,
    tags: subject.tags,
    metadata: {
      source: 'sample',
      reading_minutes: Math.max(1, Math.round(words / 200)),
      featured: status === 'published' && random() < 0.1,
      ...(place ? { region: place.key } : {}),
    },
    writer: Math.floor(random() * WRITER_COUNT),
    ageDays,
    editedAfterDays,
    publishedAfterDays: published ? random() * editedAfterDays : null,
    publishInDays: status === 'approved' && random() < 0.6 ? 1 + random() * 20 : null,
    unpublishInDays: status === 'published' && random() < 0.08 ? 30 + random() * 60 : null,
  };
}
