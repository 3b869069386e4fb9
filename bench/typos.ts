/**
 * Typo correction on clean and on misspelt queries, in English and Arabic: how many correct
 * words of clean queries get "corrected" (false corrections), and how many injected typos get
 * corrected back. The rules Sift ships (`correctQuery` with the language lexicons) are measured
 * next to the rule they replaced (any word the organisation's vocabulary lacks became its
 * nearest vocabulary word; re-implemented here in ten lines), and next to the new rules without
 * the lexicons, in the same run.
 *
 * Vocabularies are the organisations' own, as search builds them: `countWords` (Postgres's
 * `ts_stat`) over an in-process PGlite with the migrated schema, then `Vocabulary`:
 *
 * - CISI (`BENCH_CISI_DIR`, bench/datasets.ts: 1,460 library-science abstracts, English);
 * - the sample organisation `sift-demo` (`tools/db/sample-data`: its published items, English
 *   and Arabic).
 *
 * Clean queries (how they were built, see the report): CISI's 112 queries against CISI, less
 * the words misspelt in the original; the country and currency names of Debian's `iso-codes`
 * and short user-interface strings of GTK 3, GLib and APT, in English and in their Arabic
 * translations, against `sift-demo` (text its corpus mostly lacks: names, inflected verbs,
 * question words); `sift-demo`'s own subjects as a control. Typos: one random edit in 30% of the
 * words of CISI's queries and of `sift-demo`'s English and Arabic titles.
 *
 *   apt install iso-codes libgtk-3-common libglib2.0-data   # the clean queries' sources
 *   npm run bench:typos            # writes bench/results/typos.md
 *   BENCH_SEED=7 npm run bench:typos
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import { content, contentTranslations, organizations } from '../shared/db/schema/index.ts';
import { createRandom } from '../shared/random.ts';
import { countWords } from '../shared/search/word-counts.ts';
import { isStopWord, tokenize } from '../shared/text/analyze.ts';
import { languageLexicon } from '../shared/text/lexicons/index.ts';
import {
  CORRECTION_DOMINANCE,
  type Correction,
  correctQuery,
  maxEdits,
  Vocabulary,
} from '../shared/text/typo.ts';
import { MIGRATIONS_FOLDER } from '../tools/db/migrate.ts';
import { CATEGORY_BANKS } from '../tools/db/sample-data/categories.ts';
import { composeSampleItems } from '../tools/db/sample-data/compose.ts';
import { CISI_DIR } from './datasets.ts';
import { type Alphabet, ARABIC, addTypos, LATIN } from './ir-metrics.ts';

const ROOT = join(import.meta.dirname, '..');
const CISI = CISI_DIR;
const LOCALE_DIR = '/usr/share/locale/ar/LC_MESSAGES';
const SEED = Number(process.env.BENCH_SEED ?? 6);
const TYPO_RATE = 0.3;
/** The longest user-interface string taken as a query, in words. */
const MAX_QUERY_WORDS = 6;

/**
 * Words misspelt in CISI's queries as published (found by reading the corrections the previous
 * rule made on them): corrections of these are right, so they are not counted as clean words.
 */
const ORIGINAL_TYPOS = new Set([
  'augumenting',
  'bioliographic',
  'catn',
  'coefficicents',
  'compuyter',
  'discjussion',
  'expectattions',
  'gthe',
  'manhy',
  'suybsystem',
]);

// ---------------------------------------------------------------------------------------------
// Sources

type Doc = { title: string; summary?: string; body: string; locale: 'en' | 'ar' };

/** The records of a SMART-format file (`.I <id>`, then `.X` field lines), by id. */
function parseRecords(text: string): Map<number, Map<string, string>> {
  const records = new Map<number, Map<string, string>>();
  let record: Map<string, string> | undefined;
  let field: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    const start = /^\.I\s+(\d+)\s*$/.exec(line);
    if (start) {
      record = new Map();
      records.set(Number(start[1]), record);
      field = undefined;
      continue;
    }
    const marker = /^\.([A-Z])\s*$/.exec(line);
    if (marker) field = marker[1];
    else if (record && field) record.set(field, `${record.get(field) ?? ''}${line}\n`);
  }
  return records;
}

const collapse = (text: string) => text.replace(/\s+/g, ' ').trim();

async function cisi() {
  const read = (name: string) => readFile(join(CISI, name), 'utf8');
  const [all, qry] = await Promise.all([read('CISI.ALL'), read('CISI.QRY')]);
  const docs: Doc[] = [...parseRecords(all).values()].map((f) => ({
    title: collapse(f.get('T') ?? ''),
    body: (f.get('W') ?? '').trim(),
    locale: 'en',
  }));
  const queries = [...parseRecords(qry).values()].map((f) => collapse(f.get('W') ?? ''));
  return { docs, queries };
}

/** The published items of the sample organisation, one document per translation. */
function sampleDocs(): Doc[] {
  return composeSampleItems()
    .filter((item) => item.status === 'published')
    .flatMap((item) =>
      Object.entries(item.translations).map(([locale, t]) => ({
        ...t,
        locale: locale as 'en' | 'ar',
      })),
    );
}

/** The (msgid, msgstr) pairs of a GNU gettext `.mo` file with a translation. */
async function readMo(path: string): Promise<[string, string][]> {
  const bytes = await readFile(path);
  const magic = bytes.readUInt32LE(0);
  const read =
    magic === 0x950412de ? bytes.readUInt32LE.bind(bytes) : bytes.readUInt32BE.bind(bytes);
  const count = read(8);
  const originals = read(12);
  const translations = read(16);
  const text = (table: number, i: number) => {
    const length = read(table + 8 * i);
    const offset = read(table + 8 * i + 4);
    return bytes.toString('utf8', offset, offset + length);
  };
  const pairs: [string, string][] = [];
  for (let i = 0; i < count; i++) {
    const id = text(originals, i);
    const str = text(translations, i);
    // Plural forms hold NUL-separated variants: the first of each.
    if (id !== '' && str !== '') pairs.push([id.split('\0')[0]!, str.split('\0')[0]!]);
  }
  return pairs;
}

/**
 * A user-interface string as a search query: mnemonics (`_Open`), format directives (`%s`,
 * `%1$d`, `{name}`), markup, ellipses and punctuation taken out; undefined when what is left has
 * a digit or a Latin letter in the Arabic, or is not 2 to {@link MAX_QUERY_WORDS} words.
 */
function asQuery(text: string, arabic: boolean): string | undefined {
  const cleaned = collapse(
    text
      .replace(/<[^>]*>/g, ' ')
      .replace(/%(\d+\$)?[-#0 +']*\d*(\.\d+)?[a-zA-Z]/g, ' ')
      .replace(/\{[^}]*\}/g, ' ')
      .replace(/_(?=\p{L})/gu, '')
      .replace(/[^\p{L}\p{M}\s'-]/gu, ' '),
  );
  if (cleaned === '' || /\d/.test(cleaned) || (arabic && /[A-Za-z]/.test(cleaned))) {
    return undefined;
  }
  const words = cleaned.split(' ').length;
  return words >= 2 && words <= MAX_QUERY_WORDS ? cleaned : undefined;
}

type Pairs = { en: string[]; ar: string[] };

/** English and Arabic queries from `.mo` files: names (any length) or short strings. */
async function fromCatalogues(files: string[], names: boolean): Promise<Pairs> {
  const en = new Set<string>();
  const ar = new Set<string>();
  for (const file of files) {
    for (const [id, str] of await readMo(join(LOCALE_DIR, file))) {
      if (names) {
        if (!/\d/.test(id)) en.add(collapse(id));
        if (!/[\dA-Za-z]/.test(str)) ar.add(collapse(str));
        continue;
      }
      const english = asQuery(id, false);
      const arabic = asQuery(str, true);
      if (english && arabic) {
        en.add(english);
        ar.add(arabic);
      }
    }
  }
  return { en: [...en].sort(), ar: [...ar].sort() };
}

// ---------------------------------------------------------------------------------------------
// Vocabularies, as search builds them

async function vocabularies(collections: Record<string, Doc[]>) {
  const client = await PGlite.create();
  const db = drizzle({ client });
  await migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
  const out: Record<string, Vocabulary> = {};
  const now = new Date();
  for (const [name, docs] of Object.entries(collections)) {
    const [org] = await db
      .insert(organizations)
      .values({ slug: name, name })
      .returning({ id: organizations.id });
    const orgId = org!.id;
    for (let i = 0; i < docs.length; i += 200) {
      const batch = docs.slice(i, i + 200);
      const rows = await db
        .insert(content)
        .values(
          batch.map((d) => ({
            orgId,
            status: 'published' as const,
            defaultLocale: d.locale,
            publishedAt: now,
          })),
        )
        .returning({ id: content.id });
      await db.insert(contentTranslations).values(
        batch.map((d, j) => ({
          contentId: rows[j]!.id,
          orgId,
          locale: d.locale,
          title: d.title,
          summary: d.summary ?? null,
          body: d.body,
          slug: `${name}-${i + j}`,
        })),
      );
    }
    const counts = await countWords(db, orgId);
    out[name] = new Vocabulary(counts);
    console.log(`${name}: ${docs.length} translations, ${counts.length} words in its vocabulary`);
  }
  await client.close();
  return out;
}

// ---------------------------------------------------------------------------------------------
// The rules

type Corrector = (text: string, vocabulary: Vocabulary) => Correction[];

/** The rule before: any word the vocabulary lacks became its nearest (then most frequent) word. */
const previousRule: Corrector = (text, vocabulary) =>
  tokenize(text).flatMap(({ term }) => {
    if (/\p{N}/u.test(term) || isStopWord(term) || maxEdits(term) === 0) return [];
    if (vocabulary.has(term)) return [];
    const best = vocabulary.suggest(term, { limit: 1 })[0];
    return best ? [{ from: term, to: best.word, distance: best.distance }] : [];
  });

const RULES: { name: string; correct: Corrector }[] = [
  { name: 'before: nearest vocabulary word', correct: previousRule },
  {
    name: 'evidence rules, no lexicon',
    correct: (text, vocabulary) => correctQuery(text, vocabulary).corrections,
  },
  {
    name: 'evidence rules with the lexicons (shipped)',
    correct: (text, vocabulary) =>
      correctQuery(text, vocabulary, { lexicon: languageLexicon }).corrections,
  },
];

/** Words a corrector may consider: four letters or more, no digit, not a stop word. */
const eligible = (text: string) =>
  tokenize(text).filter(
    ({ term }) => !/\p{N}/u.test(term) && !isStopWord(term) && maxEdits(term) > 0,
  );

type CleanSet = { name: string; language: string; vocabulary: string; queries: string[] };
type TypoSet = {
  name: string;
  language: string;
  vocabulary: string;
  queries: string[];
  alphabet: Alphabet;
};

function measureClean(set: CleanSet, vocabulary: Vocabulary, correct: Corrector) {
  let words = 0;
  let corrected = 0;
  let queries = 0;
  const examples = new Map<string, string>();
  for (const q of set.queries) {
    const counted = eligible(q).filter((t) => !ORIGINAL_TYPOS.has(t.term)).length;
    const wrong = correct(q, vocabulary).filter((c) => !ORIGINAL_TYPOS.has(c.from));
    words += counted;
    corrected += wrong.length;
    if (wrong.length > 0) queries++;
    for (const c of wrong) if (examples.size < 6) examples.set(c.from, c.to);
  }
  return { words, corrected, queries, examples };
}

function measureTypos(
  vocabulary: Vocabulary,
  correct: Corrector,
  typos: ReturnType<typeof makeTypos>,
) {
  let misspelt = 0;
  let correctable = 0;
  let restored = 0;
  let miscorrected = 0;
  for (const { text, changes } of typos) {
    const corrections = correct(text, vocabulary);
    for (const change of changes) {
      misspelt++;
      const from = normal(change.from);
      const to = normal(change.to);
      const fixable =
        vocabulary.has(from) && !isStopWord(from) && maxEdits(from) > 0 && maxEdits(to) > 0;
      if (fixable) correctable++;
      const made = corrections.find((c) => c.from === to);
      if (made && made.to !== from) miscorrected++;
      else if (made && fixable) restored++;
    }
  }
  return { misspelt, correctable, restored, miscorrected };
}

const normal = (word: string) =>
  tokenize(word)
    .map((t) => t.term)
    .join('');

function makeTypos(set: TypoSet) {
  const random = createRandom(SEED);
  return set.queries.map((q) => addTypos(q, random, TYPO_RATE, set.alphabet));
}

// ---------------------------------------------------------------------------------------------
// Report

const percent = (part: number, whole: number) =>
  whole === 0 ? '–' : `${((100 * part) / whole).toFixed(1)}%`;

async function main() {
  const { docs: cisiDocs, queries: cisiQueries } = await cisi();
  const sample = sampleDocs();
  const vocab = await vocabularies({ cisi: cisiDocs, sample });
  const names = await fromCatalogues(['iso_3166-1.mo', 'iso_4217.mo'], true);
  const strings = await fromCatalogues(['gtk30.mo', 'glib20.mo', 'apt.mo'], false);
  const subjects = CATEGORY_BANKS.flatMap((b) => b.subjects);
  const titles = (locale: 'en' | 'ar') =>
    sample.filter((d) => d.locale === locale).map((d) => d.title);

  const clean: CleanSet[] = [
    { name: "CISI's queries", language: 'en', vocabulary: 'cisi', queries: cisiQueries },
    { name: 'country and currency names', language: 'en', vocabulary: 'sample', queries: names.en },
    { name: 'user-interface strings', language: 'en', vocabulary: 'sample', queries: strings.en },
    {
      name: "sift-demo's subjects",
      language: 'en',
      vocabulary: 'sample',
      queries: subjects.map((s) => s.en),
    },
    { name: 'country and currency names', language: 'ar', vocabulary: 'sample', queries: names.ar },
    { name: 'user-interface strings', language: 'ar', vocabulary: 'sample', queries: strings.ar },
    {
      name: "sift-demo's subjects",
      language: 'ar',
      vocabulary: 'sample',
      queries: subjects.map((s) => s.ar),
    },
  ];
  const typoSets: TypoSet[] = [
    {
      name: "CISI's queries",
      language: 'en',
      vocabulary: 'cisi',
      queries: cisiQueries,
      alphabet: LATIN,
    },
    {
      name: "sift-demo's titles",
      language: 'en',
      vocabulary: 'sample',
      queries: titles('en'),
      alphabet: LATIN,
    },
    {
      name: "sift-demo's titles",
      language: 'ar',
      vocabulary: 'sample',
      queries: titles('ar'),
      alphabet: ARABIC,
    },
  ];

  const cleanRows: string[] = [];
  const totals = new Map<
    string,
    { words: number; corrected: number; queries: number; count: number }
  >();
  const examples: string[] = [];
  for (const set of clean) {
    const cells: string[] = [];
    for (const rule of RULES) {
      const m = measureClean(set, vocab[set.vocabulary]!, rule.correct);
      cells.push(`${m.corrected} (${percent(m.corrected, m.words)}) in ${m.queries} queries`);
      const key = `${set.language}\u0000${rule.name}`;
      const t = totals.get(key) ?? { words: 0, corrected: 0, queries: 0, count: 0 };
      totals.set(key, {
        words: t.words + m.words,
        corrected: t.corrected + m.corrected,
        queries: t.queries + m.queries,
        count: t.count + set.queries.length,
      });
      if (rule === RULES.at(-1) || rule === RULES[0]) {
        const list = [...m.examples].map(([from, to]) => `${from} → ${to}`).join(', ');
        if (list) examples.push(`- ${set.language}, ${set.name}, ${rule.name}: ${list}`);
      }
    }
    const words = eligible(set.queries.join(' ')).length;
    cleanRows.push(
      `| ${set.language} | ${set.name} | ${set.vocabulary === 'cisi' ? 'CISI' : 'sift-demo'} | ${set.queries.length} | ${words} | ${cells.join(' | ')} |`,
    );
  }
  const totalRows = ['en', 'ar'].map((language) => {
    const cells = RULES.map((rule) => {
      const t = totals.get(`${language}\u0000${rule.name}`)!;
      return `${percent(t.corrected, t.words)} of words, ${percent(t.queries, t.count)} of queries`;
    });
    return `| ${language} | all clean queries | | | | ${cells.join(' | ')} |`;
  });

  const typoRows: string[] = [];
  for (const set of typoSets) {
    const typos = makeTypos(set);
    const cells = RULES.map((rule) => {
      const m = measureTypos(vocab[set.vocabulary]!, rule.correct, typos);
      return `${percent(m.restored, m.correctable)} restored, ${percent(m.miscorrected, m.misspelt)} wrong`;
    });
    const first = measureTypos(vocab[set.vocabulary]!, RULES[0]!.correct, typos);
    typoRows.push(
      `| ${set.language} | ${set.name} | ${set.queries.length} | ${first.misspelt} | ${first.correctable} | ${cells.join(' | ')} |`,
    );
  }

  const header = RULES.map((r) => r.name).join(' | ');
  const lines = [
    '# Typo correction: false corrections and corrected typos',
    '',
    `\`npm run bench:typos\` on ${new Date().toISOString().slice(0, 10)}, in process: each organisation's vocabulary counted by \`countWords\` (PGlite, the migrated schema) and built as search builds it, then \`correctQuery\` on every query. Three rules side by side: the rule before this change (a word the vocabulary lacks becomes its nearest vocabulary word), the evidence rules without the language lexicons, and the shipped rules (the word must be unknown to the corpus, as a word or a stem, and to its language's lexicon; never a stop word or, in Arabic, a stop word with clitics; the candidate not a stop word and ${CORRECTION_DOMINANCE} times as frequent as any rival as near with another stem).`,
    '',
    `Vocabularies: CISI (${cisiDocs.length.toLocaleString('en-US')} abstracts) and sift-demo (the ${sample.length} published translations of the sample data).`,
    '',
    '## Clean queries: words "corrected" that were not typos',
    '',
    `| language | queries | vocabulary | count | words considered | ${header} |`,
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |',
    ...cleanRows,
    ...totalRows,
    '',
    'Words considered: four letters or more, no digit, not a stop word (the only words any rule may correct). How the clean queries were built:',
    '',
    `- CISI's queries: the \`.W\` text of all ${cisiQueries.length} queries of \`CISI.QRY\` (questions written by people), against the CISI vocabulary. ${ORIGINAL_TYPOS.size} words are misspelt in the original (${[...ORIGINAL_TYPOS].join(', ')}); they are not counted, and correcting them is not counted as false.`,
    "- Country and currency names: every name in Debian's `iso-codes` catalogues `iso_3166-1` and `iso_4217` (English, and the Arabic translation in `ar`), against sift-demo, whose corpus holds few of them: the names of the issue.",
    `- User-interface strings: every message of GTK 3, GLib and APT (\`gtk30\`, \`glib20\`, \`apt\` in \`${LOCALE_DIR}\`) with an Arabic translation that is, after taking out mnemonics, format directives, markup and punctuation, 2 to ${MAX_QUERY_WORDS} words with no digit (and no Latin letter in the Arabic) in both languages: everyday words, inflected verbs and question words the sample corpus mostly lacks.`,
    "- sift-demo's subjects: the English and Arabic subject phrases of the sample data's categories, all in its corpus: a control.",
    '',
    'Examples of what was "corrected" (up to six per set, for the rule before and the shipped one):',
    '',
    ...examples,
    '',
    `## Queries with typos (one random edit in ${TYPO_RATE * 100}% of the words)`,
    '',
    `| language | queries | count | words misspelt | correctable | ${header} |`,
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...typoRows,
    '',
    `Seed ${SEED} (\`BENCH_SEED\`): each chosen word gets an insertion, deletion, substitution or transposition, equally likely, with letters of its alphabet (a–z; the Arabic letters with their hamza forms and taa marbuta). Correctable: the word was a vocabulary word of four letters or more and not a stop word, and its misspelling has four letters or more: only those can be restored. Restored: corrected to the normalised original (share of the correctable); wrong: corrected to another word (share of all misspelt words).`,
    '',
  ];
  const report = lines.join('\n');
  await writeFile(join(ROOT, 'bench/results/typos.md'), report);
  console.log(report);
}

await main();
