import { describe, expect, it } from 'vitest';
import {
  createLocalEmbeddingProvider,
  normalizeText,
  stemWord,
  tokenize,
} from '../../../shared/embeddings/local.ts';

// Related pairs say the same thing in different words (paraphrases, not copies); unrelated
// pairs are about different things, some sharing only function words.
const RELATED: [string, string][] = [
  ['The cat is sleeping on the sofa.', 'A cat sleeps on the couch.'],
  ['How do I reset my password?', 'Steps to reset a forgotten password'],
  ['The stock market fell sharply today.', "Stocks dropped steeply in today's trading."],
  ['She is learning to play the guitar.', "She's taking guitar lessons so she can learn to play."],
  ['Heavy rain caused flooding in the city.', 'The city was flooded after heavy rainfall.'],
  [
    'Our team won the football match yesterday.',
    'Yesterday our side beat their rivals in the football game.',
  ],
  [
    'The restaurant serves excellent Italian food.',
    'Great Italian dishes are served at this restaurant.',
  ],
  [
    'Electric cars are becoming more popular.',
    'The popularity of electric vehicles keeps growing.',
  ],
  [
    'The doctor prescribed antibiotics for the infection.',
    'An antibiotic was prescribed by the physician to treat the infection.',
  ],
  ['I need to book a flight to Paris.', 'Booking a plane ticket to Paris is on my list.'],
  [
    'The company announced record profits this quarter.',
    'Quarterly profits hit a record, the company said.',
  ],
  ['Children should drink plenty of water.', 'Kids need to drink enough water every day.'],
  ['The museum opens at nine in the morning.', 'Each morning the museum opens its doors at 9.'],
  [
    'Scientists discovered a new species of frog.',
    'A previously unknown frog species was discovered by researchers.',
  ],
  ['The train was delayed by two hours.', 'A two-hour delay hit the train.'],
  ['He repaired the broken bicycle wheel.', 'The wheel of his bike was broken, so he fixed it.'],
  [
    'Learning a new language takes time and practice.',
    'It takes lots of practice and time to learn another language.',
  ],
  [
    'The hotel room had a beautiful view of the ocean.',
    'From our hotel room we could see a lovely ocean view.',
  ],
  ['Please turn off the lights when you leave.', 'Switch the lights off when leaving, please.'],
  ['The government raised taxes on tobacco.', 'Tobacco taxes were increased by the government.'],
  ['My laptop battery drains very quickly.', 'The battery on my laptop runs out fast.'],
  [
    'The concert was cancelled because of the storm.',
    'Due to the storm, organisers cancelled the concert.',
  ],
  ['Regular exercise improves heart health.', 'Exercising regularly is good for your heart.'],
  [
    'The bakery sells fresh bread every morning.',
    'Fresh bread is baked and sold each morning at the bakery.',
  ],
  // Arabic: the cat sleeps on the sofa / a cat sleeps on the couch.
  ['القطة نائمة على الأريكة', 'قطة تنام فوق الكنبة'],
  // I went to school in the morning (with and without diacritics).
  ['ذهبت إلى المدرسة صباحاً', 'في الصباح ذهبتُ إلى المدرسة'],
  // Oil prices rose today / a rise in oil prices this day.
  ['أسعار النفط ارتفعت اليوم', 'ارتفاع في أسعار النفط هذا اليوم'],
  // The weather is nice today (written with tatweel) / today the weather is nice.
  ['الطقس جميـــل اليوم', 'اليوم طقس جميل'],
];

const UNRELATED: [string, string][] = [
  ['The cat is sleeping on the sofa.', 'Quarterly profits hit a record, the company said.'],
  ['How do I reset my password?', 'Heavy rain caused flooding in the city.'],
  ['It is what it is.', 'There is nothing on the table.'],
  ['The stock market fell sharply today.', 'She is learning to play the guitar.'],
  [
    'Our team won the football match yesterday.',
    'The doctor prescribed antibiotics for the infection.',
  ],
  ['Electric cars are becoming more popular.', 'The bakery sells fresh bread every morning.'],
  ['I need to book a flight to Paris.', 'Regular exercise improves heart health.'],
  ['Children should drink plenty of water.', 'The government raised taxes on tobacco.'],
  ['The museum opens at nine in the morning.', 'My laptop battery drains very quickly.'],
  ['Scientists discovered a new species of frog.', 'Please turn off the lights when you leave.'],
  ['The train was delayed by two hours.', 'The restaurant serves excellent Italian food.'],
  ['He repaired the broken bicycle wheel.', 'Learning a new language takes time and practice.'],
  [
    'The hotel room had a beautiful view of the ocean.',
    'The concert was cancelled because of the storm.',
  ],
  ['Volcanoes release ash into the atmosphere.', 'My grandmother knits warm sweaters.'],
  ['The printer is out of paper.', 'Penguins live in the southern hemisphere.'],
  ['We planted tomatoes in the garden.', 'The server returned an internal error.'],
  ['Jupiter is the largest planet.', 'He forgot his umbrella at the office.'],
  ['The invoice must be paid by Friday.', 'Dolphins communicate with clicks and whistles.'],
  ['A strong coffee helps me wake up.', 'The bridge was painted bright red.'],
  ['The library extended its opening hours.', 'Lions hunt mostly at night.'],
  ['القطة نائمة على الأريكة', 'أسعار النفط ارتفعت اليوم'],
  ['ذهبت إلى المدرسة صباحاً', 'الطقس جميل اليوم'],
];

function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] as number) * (b[i] as number);
  return sum;
}

async function similarities(pairs: [string, string][]) {
  const provider = createLocalEmbeddingProvider();
  const vectors = await provider.embed(pairs.flat());
  return pairs.map((_, i) =>
    dot(vectors[2 * i] as Float32Array, vectors[2 * i + 1] as Float32Array),
  );
}

const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;

describe('local embedding provider', () => {
  it('scores every related pair above the mean of the unrelated pairs, and clearly so on average', async () => {
    const related = await similarities(RELATED);
    const unrelated = await similarities(UNRELATED);
    const unrelatedMean = mean(unrelated);
    related.forEach((score, i) => {
      expect(score, `${RELATED[i]?.[0]} / ${RELATED[i]?.[1]}`).toBeGreaterThan(unrelatedMean);
    });
    expect(mean(related) - unrelatedMean).toBeGreaterThan(0.3);
    expect(Math.max(...unrelated)).toBeLessThan(Math.min(...related));
  });

  it('is deterministic: the same text gives the identical vector, across providers', async () => {
    const text = 'Determinism matters for tests: نفس النص، نفس المتجه.';
    const [a] = await createLocalEmbeddingProvider().embed([text]);
    const [b] = await createLocalEmbeddingProvider().embed([text, 'other']);
    expect(Array.from(a as Float32Array)).toEqual(Array.from(b as Float32Array));
  });

  it('returns L2-normalised vectors of the configured size, even for empty text', async () => {
    const provider = createLocalEmbeddingProvider();
    expect(provider.dimensions).toBe(384);
    const small = createLocalEmbeddingProvider({ dimensions: 64 });
    expect(small.model).not.toBe(provider.model);
    for (const p of [provider, small]) {
      for (const vector of await p.embed(['A sentence.', '', '   ', '!!!', 'a'])) {
        expect(vector).toHaveLength(p.dimensions);
        expect(Math.hypot(...vector)).toBeCloseTo(1, 6);
      }
    }
    expect(() => createLocalEmbeddingProvider({ dimensions: 0 })).toThrow(RangeError);
  });

  it('normalises Unicode, case, Latin diacritics and Arabic spelling variants', async () => {
    const provider = createLocalEmbeddingProvider();
    const same: [string, string][] = [
      ['HELLO World', 'hello world'],
      ['ｈｅｌｌｏ', 'hello'],
      ['Café résumé', 'cafe resume'],
      ['أحمد وإبراهيم وآدم', 'احمد وابراهيم وادم'],
      ['مُحَمَّدٌ', 'محمد'],
      ['جميـــل', 'جميل'],
      ['مدرسة', 'مدرسه'],
      ['مستشفى', 'مستشفي'],
      ['١٢٣', '123'],
    ];
    for (const [a, b] of same) {
      const [va, vb] = await provider.embed([a, b]);
      expect(dot(va as Float32Array, vb as Float32Array), `${a} / ${b}`).toBeCloseTo(1, 6);
    }
    expect(normalizeText('صباحاً')).toBe('صباح');
  });

  it('stems English inflections and Arabic affixes onto shared stems', () => {
    expect(stemWord('running')).toBe(stemWord('run'));
    expect(stemWord('flooded')).toBe(stemWord('flood'));
    expect(stemWord('stories')).toBe(stemWord('story'));
    expect(stemWord('creation')).toBe(stemWord('create'));
    expect(stemWord('boxes')).toBe(stemWord('box'));
    expect(stemWord('المدرسة')).toBe(stemWord('مدرسة'));
    expect(stemWord('والكتاب')).toBe(stemWord('كتاب'));
    expect(tokenize("The cat's toys, 42 items!")).toEqual(['the', 'cat', 'toys', '42', 'items']);
    expect(tokenize('東京タワー')).toEqual(['東京', '京タ', 'タワ', 'ワー']);
  });

  it('embeds thousands of sentences per second', async () => {
    const provider = createLocalEmbeddingProvider();
    const sentences = Array.from(
      { length: 3000 },
      (_, i) => `${RELATED[i % RELATED.length]?.[0]} Sentence number ${i}.`,
    );
    const started = performance.now();
    const vectors = await provider.embed(sentences);
    const seconds = (performance.now() - started) / 1000;
    expect(vectors).toHaveLength(3000);
    // Measured at well over 10 000/s; the bound only catches a pathological slowdown.
    expect(3000 / seconds).toBeGreaterThan(1000);
  });
});
