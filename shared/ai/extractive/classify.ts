import { analyze, type Lang } from '../../text/analyze.ts';
import { foldForMatching } from './text.ts';

export const DOCUMENT_TYPES = [
  'contract',
  'report',
  'minutes',
  'policy',
  'invoice',
  'email',
  'other',
] as const;
export type DocumentType = (typeof DOCUMENT_TYPES)[number];

/**
 * Cue features per document type, in folded spelling, with weights: a cue counts once however
 * often it appears, so a long report that says "meeting" ten times is not minutes. Cues that
 * open a line (`subject:`, `attendees:`) are layout features and weigh more.
 */
const TYPE_CUES: Record<Exclude<DocumentType, 'other'>, readonly [RegExp, number][]> = {
  contract: [
    [/(?<![\p{L}])(?:agreement|contract)(?![\p{L}])/u, 1.5],
    [
      /(?<![\p{L}])(?:the parties|party|hereby|hereinafter|whereas|governing law|indemnif\p{L}*|termination|clause|shall)(?![\p{L}])/u,
      1,
    ],
    [/(?:العقد|عقد|الاتفاقيه|اتفاقيه)(?![\p{L}])/u, 1.5],
    [/(?:الطرف الاول|الطرف الثاني|الطرفان|الطرفين|يلتزم|تلتزم|البند|الماده|فسخ)(?![\p{L}])/u, 1],
  ],
  invoice: [
    [
      /(?<![\p{L}])(?:invoice|bill to|amount due|total due|subtotal|vat|tax invoice|payment terms)(?![\p{L}])/u,
      2,
    ],
    [/(?<![\p{L}])(?:qty|quantity|unit price|remit)(?![\p{L}])/u, 1],
    [
      /(?:فاتوره|الفاتوره|المبلغ المستحق|الاجمالي|ضريبه القيمه المضافه|سعر الوحده|الكميه)(?![\p{L}])/u,
      2,
    ],
  ],
  minutes: [
    [
      /(?<![\p{L}])(?:minutes of|meeting minutes|minutes:|attendees|present:|apologies|agenda|chaired by)(?![\p{L}])/u,
      2,
    ],
    [/(?<![\p{L}])(?:meeting|discussed|agreed|action items?)(?![\p{L}])/u, 1],
    [/(?:محضر|الحضور|الحاضرون|جدول الاعمال|اعتذر|ترأس|تراس)(?![\p{L}])/u, 2],
    [/(?:اجتماع|الاجتماع|ناقش|نوقش|تمت مناقشه|اتفق|تقرر)(?![\p{L}])/u, 1],
  ],
  policy: [
    [
      /(?<![\p{L}])(?:policy|policies|scope|applies to|compliance|employees must|prohibited|violations?)(?![\p{L}])/u,
      1.5,
    ],
    [/(?:سياسه|السياسه|نطاق التطبيق|تنطبق|يحظر|الامتثال|مخالفه)(?![\p{L}])/u, 1.5],
  ],
  report: [
    [/(?<![\p{L}])(?:report|findings|root cause)(?![\p{L}])/u, 1.5],
    [
      /(?<![\p{L}])(?:incident|analysis|status|progress|quarter(?:ly)?|kpis?|summary)(?![\p{L}])/u,
      1,
    ],
    [/(?:تقرير|التقرير|النتائج|السبب الجذري)(?![\p{L}])/u, 1.5],
    [/(?:حادث|الحادث|الحادثه|تحليل|الربع|مؤشرات|الحاله)(?![\p{L}])/u, 1],
  ],
  email: [
    [/^(?:from|to|subject|cc)\s*:/mu, 2],
    [/(?<![\p{L}])(?:dear|hi|hello|regards|best|thanks|sincerely|cheers)(?![\p{L}])/u, 1],
    [/^(?:من|الي|الموضوع)\s*:/mu, 2],
    [/(?:عزيزي|عزيزتي|تحيه طيبه|مع خالص التحيه|مع التحيه|السلام عليكم|شكرا)(?![\p{L}])/u, 1],
  ],
};
/** Below this score the document is `other`. */
const TYPE_THRESHOLD = 2;

/**
 * The document's type by cue features ({@link TYPE_CUES}): each type scores the weights of the
 * cues it has; the best type wins when it reaches {@link TYPE_THRESHOLD}, ties going to the
 * earlier type in {@link DOCUMENT_TYPES}; `other` otherwise.
 */
export function classifyDocument(text: string): DocumentType {
  const folded = foldForMatching(text).text;
  let best: DocumentType = 'other';
  let bestScore = TYPE_THRESHOLD - Number.EPSILON;
  for (const type of DOCUMENT_TYPES) {
    if (type === 'other') continue;
    let score = 0;
    for (const [pattern, weight] of TYPE_CUES[type]) if (pattern.test(folded)) score += weight;
    if (score > bestScore) {
      best = type;
      bestScore = score;
    }
  }
  return best;
}

/**
 * The given category that best fits the document, or null when none shares a word with it: each
 * category's name (and description, after a `:`) is analysed into stems, and scores the share of
 * the document's stems it covers, each stem weighted by `1 + ln(count)` so one mention does not
 * count like a theme, divided by `sqrt` of the name's stem count so long names do not win by
 * length. A stem also matches a document stem it prefixes (at least 4 letters), which catches
 * compounds and Arabic forms the light stemmer leaves apart.
 */
export function suggestCategory(
  text: string,
  categories: readonly string[],
  lang?: Lang,
): { name: string; score: number } | null {
  if (categories.length === 0) return null;
  const counts = new Map<string, number>();
  const stems = analyze(text, lang);
  for (const stem of stems) counts.set(stem, (counts.get(stem) ?? 0) + 1);
  const total = Math.max(1, stems.length);
  let best: { name: string; score: number } | null = null;
  for (const name of categories) {
    const terms = [...new Set(analyze(name.replace(/[:_/-]/gu, ' '), lang))];
    if (terms.length === 0) continue;
    let score = 0;
    for (const term of terms) {
      let count = counts.get(term) ?? 0;
      if (count === 0 && term.length >= 4) {
        for (const [stem, n] of counts)
          if (stem.startsWith(term) || (term.startsWith(stem) && stem.length >= 4)) count += n;
      }
      if (count > 0) score += 1 + Math.log(count);
    }
    score = score / Math.sqrt(terms.length) / Math.log(2 + total);
    if (score > 0 && (best === null || score > best.score)) best = { name, score };
  }
  return best === null ? null : { name: best.name, score: Math.round(best.score * 1000) / 1000 };
}
