import { isStopWord, type Lang, stem, tokenize } from './analyze.ts';

/**
 * What a searcher wants, in Broder's taxonomy ("A taxonomy of web search", 2002): to reach a
 * particular page or item (`navigational`), to learn about something (`informational`), or to
 * do something: buy, download, book, subscribe (`transactional`). Search can use it to weigh
 * title matches, freshness or product pages differently.
 */
export type QueryClass = 'navigational' | 'informational' | 'transactional';

/** Words and phrases that mean the searcher wants to act: buy, pay, get, book, sign up. */
export const TRANSACTIONAL_MARKERS: Readonly<Record<Lang, readonly string[]>> = {
  en: [
    'buy',
    'purchase',
    'price',
    'pricing',
    'cost',
    'cheap',
    'cheapest',
    'deal',
    'discount',
    'coupon',
    'promo',
    'sale',
    'order',
    'shop',
    'checkout',
    'subscribe',
    'subscription',
    'sign up',
    'signup',
    'register',
    'download',
    'install',
    'book',
    'booking',
    'reserve',
    'reservation',
    'rent',
    'rental',
    'hire',
    'quote',
    'pay',
    'payment',
    'free trial',
  ],
  ar: [
    'شراء',
    'اشتري',
    'اشتر',
    'سعر',
    'أسعار',
    'بكم',
    'تكلفة',
    'أرخص',
    'رخيص',
    'خصم',
    'تخفيضات',
    'كوبون',
    'عروض',
    'بيع',
    'للبيع',
    'طلب',
    'اطلب',
    'متجر',
    'تسوق',
    'توصيل',
    'اشتراك',
    'اشترك',
    'تسجيل حساب',
    'تحميل',
    'تنزيل',
    'تثبيت',
    'حجز',
    'احجز',
    'إيجار',
    'استئجار',
    'دفع',
  ],
};

/** Question words and phrases that mean the searcher wants to learn or compare. */
export const INFORMATIONAL_MARKERS: Readonly<Record<Lang, readonly string[]>> = {
  en: [
    'how',
    'what',
    'why',
    'when',
    'where',
    'who',
    'which',
    'whose',
    'guide',
    'tutorial',
    'tips',
    'best',
    'top',
    'vs',
    'versus',
    'compare',
    'comparison',
    'difference',
    'meaning',
    'definition',
    'define',
    'example',
    'examples',
    'review',
    'ideas',
    'learn',
    'explained',
    'history',
    'help',
  ],
  ar: [
    'كيف',
    'كيفية',
    'ما',
    'ماذا',
    'ما هو',
    'ما هي',
    'لماذا',
    'متى',
    'أين',
    'من هو',
    'من هي',
    'كم',
    'دليل',
    'شرح',
    'طريقة',
    'أفضل',
    'أحسن',
    'مقارنة',
    'الفرق',
    'معنى',
    'تعريف',
    'نصائح',
    'أسباب',
    'فوائد',
    'مراجعة',
    'تعلم',
    'مساعدة',
  ],
};

/**
 * Words that make a question only when they open the query (`is coffee bad for you`), since
 * elsewhere they are usually part of a name (`this is us`).
 */
export const QUESTION_OPENERS: Readonly<Record<Lang, readonly string[]>> = {
  en: ['is', 'are', 'was', 'were', 'do', 'does', 'did', 'can', 'could', 'should', 'would', 'will'],
  ar: ['هل'],
};

/** Words that name a site, a page of it or an address: the searcher wants to go there. */
export const NAVIGATIONAL_MARKERS: Readonly<Record<Lang, readonly string[]>> = {
  en: [
    'login',
    'log in',
    'sign in',
    'signin',
    'homepage',
    'home page',
    'website',
    'official site',
    'contact',
    'www',
    'http',
    'https',
    'com',
    'net',
    'org',
  ],
  ar: [
    'تسجيل الدخول',
    'تسجيل دخول',
    'دخول',
    'الموقع الرسمي',
    'موقع',
    'الصفحة الرئيسية',
    'اتصل بنا',
  ],
};

/**
 * A query of at most this many content words (stop words not counted) without any marker is
 * taken for a name (`sift docs`, `جامعة الملك سعود`); longer ones for a description of a need.
 */
export const MAX_NAVIGATIONAL_TERMS = 3;

/** A word as markers compare it: its normalised spelling and its stem. */
type Word = { term: string; stem: string };

const words = (text: string): Word[] =>
  tokenize(text).map(({ term }) => ({ term, stem: stem(term) }));

const compile = (markers: Readonly<Record<Lang, readonly string[]>>): Word[][] =>
  [...markers.en, ...markers.ar].map(words);

const TRANSACTIONAL = compile(TRANSACTIONAL_MARKERS);
const INFORMATIONAL = compile(INFORMATIONAL_MARKERS);
const NAVIGATIONAL = compile(NAVIGATIONAL_MARKERS);
const OPENERS = new Set(compile(QUESTION_OPENERS).map((marker) => marker[0]?.term));
const QUESTION_MARK = /[?؟]/;

/** Whether a marker's words appear consecutively in the query, each by spelling or by stem. */
function contains(query: readonly Word[], markers: readonly Word[][]): boolean {
  return markers.some((marker) =>
    query.some((_, start) =>
      marker.every((word, k) => {
        const q = query[start + k];
        return q !== undefined && (q.term === word.term || q.stem === word.stem);
      }),
    ),
  );
}

/**
 * Classifies a search query, heuristically and in this order: `transactional` when it contains
 * an intent word of {@link TRANSACTIONAL_MARKERS} (`buy`, `download`, `سعر`, `تحميل`, also
 * inflected: `prices`, `الأسعار`, `downloading`); `informational` when it asks (a question mark,
 * `how`, `what`, `كيف`, `ما هو`…, or a {@link QUESTION_OPENERS} word first: `is`, `هل`) or
 * compares (`best`, `vs`, `أفضل`) per {@link INFORMATIONAL_MARKERS}; `navigational` when it
 * names a site or page ({@link NAVIGATIONAL_MARKERS}: `login`, `.com`, `الموقع الرسمي`) or is
 * short, at most {@link MAX_NAVIGATIONAL_TERMS} words besides stop words, as names are (an empty
 * query too); otherwise `informational`, the commonest class. Words are compared after
 * normalisation, each by spelling or by stem, so inflected forms match.
 *
 * `lang` is accepted so callers can pass the query's language, but it does not change the
 * result: bilingual searchers mix scripts in one query (`تحميل WhatsApp`), so markers of both
 * languages are always checked and each word's script picks its stop words.
 */
export function classifyQuery(text: string, _lang?: Lang): QueryClass {
  const query = words(text);
  if (contains(query, TRANSACTIONAL)) return 'transactional';
  if (QUESTION_MARK.test(text) || OPENERS.has(query[0]?.term)) return 'informational';
  if (contains(query, INFORMATIONAL)) return 'informational';
  if (contains(query, NAVIGATIONAL)) return 'navigational';
  const content = query.filter(({ term }) => !isStopWord(term)).length;
  return content <= MAX_NAVIGATIONAL_TERMS ? 'navigational' : 'informational';
}
