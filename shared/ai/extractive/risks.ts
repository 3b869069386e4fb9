import { foldForMatching, type Sentence, type Span } from './text.ts';

export type Severity = 'high' | 'medium' | 'low';

/** A risk the text states, how severe its wording makes it, and the passage it comes from. */
export type ExtractedRisk = {
  text: string;
  severity: Severity;
  /** The sentence it was found in, as written, and where it is. */
  passage: string;
  span: Span;
  confidence: number;
};

/**
 * Risk cues with their weights, in folded spelling. A sentence is a risk when its cues weigh at
 * least {@link RISK_THRESHOLD}: one strong cue (`risk`, `breach`, `outage`, `خطر`, `اختراق`)
 * is enough, weak ones (`could`, `may`, `قد`, `concern`) only together or under a "Risks"
 * heading (which adds {@link SECTION_BONUS}). Intensity words (`serious`, `خطير`) are weak cues too.
 * Arabic cues take the proclitics (`و ف ب ل ك`, `لل`) and the accusative alif (`خطراً`).
 */
const CUES: readonly [RegExp, number][] = [
  [
    /(?<![\p{L}])(?:risks?|risky|at risk|threat(?:s|ens|en)?|vulnerabilit(?:y|ies)|breach(?:es|ed)?|outages?|downtime|data loss|leak(?:s|ed|age)?|exposure|non-?compliance|penalt(?:y|ies)|liabilit(?:y|ies)|jeopardi[sz]e|overrun|over budget|behind schedule|shortfall|shortage|bottleneck|blocker|blocked|incident|exploit(?:ed)?|attack|fraud|insolvenc(?:y|e)|lawsuit|litigation|fines|fined)(?![\p{L}])/u,
    2,
  ],
  [
    /(?<![\p{L}])(?:delay(?:s|ed)?|slip(?:s|ped)?|fail(?:s|ed|ure|ures)?|miss(?:es|ed)?|exceed(?:s|ed)?|insufficient|lack of|unavailable|unstable|degraded|depend(?:s|ency|encies) on|single point of failure|turnover|attrition|disput(?:e|es|ed)|terminat(?:e|ion)|late|lateness|suspen(?:d|ds|ded|sion))(?![\p{L}])/u,
    1.5,
  ],
  [
    /(?<![\p{L}])(?:could|may|might|chance|serious|severe|critical|possible|possibly|likely|potential(?:ly)?|concerns?|issues?|problems?|uncertain(?:ty)?|unclear|unless|if not|otherwise)(?![\p{L}])/u,
    0.75,
  ],
  [
    /(?<![\p{L}])(?:[وفبلك])?(?:ال|لل)?(?:خطر|مخاطر|مخاطره|تهديد|يهدد|ثغره|ثغرات|اختراق|تسريب|تسرب|انقطاع|توقف الخدمه|فقدان البيانات|عدم الامتثال|غرامه|غرامات|عقوبه|عقوبات|تجاوز الميزانيه|تجاوز التكاليف|نقص|عجز|حادث|حادثه|هجوم|احتيال|دعوي|نزاع|اخلال|الاخلال|سرقه|سرقتها)ا?(?![\p{L}])/u,
    2,
  ],
  [
    /(?<![\p{L}])(?:[وفبلك])?(?:تاخير|تاخر|التاخير|التاخر|يتاخر|تتاخر|تعثر|فشل|عطل|اعطال|تجاوز|يتجاوز|تجاوزت|غير كاف|عدم توفر|عدم كفايه|الاعتماد علي|يعتمد علي|استقاله|فسخ|انهاء العقد|فقدان|كشف|تعليق)ا?(?![\p{L}])/u,
    1.5,
  ],
  [
    /(?<![\p{L}])(?:قد|ربما|محتمل|خطير|خطيره|جسيم|جسيمه|حرج|احتمال|مشكله|مشكلات|مشاكل|قلق|مخاوف|غير واضح|والا|في حال عدم)(?![\p{L}])/u,
    0.75,
  ],
];
const RISK_THRESHOLD = 2;
const SECTION_BONUS = 1.5;

/** Intensity words; the Arabic ones with their proclitics, article and accusative alif. */
const HIGH =
  /(?<![\p{L}])(?:critical|severe|severely|serious|major|significant|breach|data loss|leak|catastrophic|fatal|urgent|immediately|legal action|lawsuit|penalt(?:y|ies)|regulator|regulatory|outage|shutdown|high)(?![\p{L}])|(?<![\p{L}])[وفبلك]?(?:ال|لل)?(?:جسيم|جسيمه|حرج|حرجه|خطير|خطيره|بالغ|بالغه|كبير|كبيره|شديد|شديده|اختراق|تسريب|اخلال|عاجل|فوري|فورا|غرامه|غرامات|مرتفع|مرتفعه|عالي|عاليه)ا?(?![\p{L}])/u;
const LOW =
  /(?<![\p{L}])(?:minor|slight|slightly|small|low|limited|unlikely|negligible)(?![\p{L}])|(?<![\p{L}])[وفبلك]?(?:ال)?(?:طفيف|طفيفه|بسيط|بسيطه|محدود|محدوده|ضئيل|ضئيله|منخفض|منخفضه|مستبعد)ا?(?![\p{L}])/u;

/**
 * The risks of a document: each sentence whose risk cues weigh enough (see {@link CUES}),
 * headings and questions excepted. Severity is `high` when the passage has an intensity word
 * (`critical`, `severe`, `breach`, `خطر جسيم`, `حرج`…), `low` when it has a softening one
 * (`minor`, `unlikely`, `طفيف`, `محدود`) and no intensity word, `medium` otherwise. Labels in
 * the passage itself (`Severity: high`, `الخطورة: عالية`) win over the words.
 */
export function extractRisks(sentences: readonly Sentence[]): ExtractedRisk[] {
  const out: ExtractedRisk[] = [];
  for (const sentence of sentences) {
    if (sentence.heading) continue;
    const t = foldForMatching(sentence.text).text;
    let weight = sentence.section === 'risks' ? SECTION_BONUS : 0;
    for (const [pattern, w] of CUES) if (pattern.test(t)) weight += w;
    if (weight < RISK_THRESHOLD) continue;
    out.push({
      text: sentence.text,
      severity: severityOf(t),
      passage: sentence.text,
      span: { start: sentence.start, end: sentence.end },
      confidence: Math.min(1, weight / 4),
    });
  }
  return out;
}

function severityOf(folded: string): Severity {
  const label = /(?:severity|impact|الخطوره|درجه الخطوره|الاثر)\s*[:-]?\s*(\p{L}+)/u.exec(
    folded,
  )?.[1];
  if (label) {
    if (/^(?:high|critical|عاليه|عالي|مرتفعه|مرتفع|حرجه)$/u.test(label)) return 'high';
    if (/^(?:low|minor|منخفضه|منخفض)$/u.test(label)) return 'low';
    if (/^(?:medium|moderate|متوسطه|متوسط)$/u.test(label)) return 'medium';
  }
  if (HIGH.test(folded)) return 'high';
  if (LOW.test(folded)) return 'low';
  return 'medium';
}
