import { findDates } from './dates.ts';
import { type Folded, foldForMatching, type Sentence, type Span } from './text.ts';

/** An action item found in the text: the sentence that states it, its owner and due date. */
export type ExtractedActionItem = {
  text: string;
  /** The person, role or party who is to do it, as written; null when none is stated. */
  owner: string | null;
  /** `YYYY-MM-DD`, resolved against the reference date; null when none is stated. */
  due_date: string | null;
  /** The date as written (`by Friday`, `بحلول ١٥ مارس`). */
  due_text: string | null;
  span: Span;
  /** How sure the cues make it, 0..1 (explicit markers highest, a bare `will` lowest). */
  confidence: number;
};

// --- English ---------------------------------------------------------------------------------

/** Explicit markers: `Action:`, `Action item:`, `TODO`, `AI:` at the start. */
const EN_MARKER = /^(?:action(?: item)?s?|todo|to-do|ai|task|next step)\s*[:\-–]/u;
/** Obligation and intention cues after a subject. */
const EN_MODAL =
  /(?<![\p{L}])(must|shall|should|will|needs? to|has to|have to|is to|are to|is responsible for|are responsible for|is expected to|are expected to|agreed to|volunteered to|undertakes to|is required to|are required to|to follow up)(?![\p{L}])/u;
const EN_PLEASE = /(?<![\p{L}])(?:please|kindly|pls)\s+\p{L}/u;
/** Verbs that start an imperative list item or an instruction. */
const EN_IMPERATIVES = new Set(
  (
    'send prepare review update schedule submit confirm share draft finalize finalise follow ' +
    'contact complete ensure provide set create fix book circulate arrange investigate deploy ' +
    'sign pay call email check verify approve renew replace notify migrate rotate patch ' +
    'document organize organise coordinate deliver finish test train publish assign escalate ' +
    'collect reconcile order install upgrade backup restore audit compile present respond reply ' +
    'request obtain agree implement close add remove move prioritize prioritise plan invite'
  ).split(' '),
);
/** A minutes-style "Omar to send…": a name followed by `to` and a verb. */
const EN_NAME_TO = /^((?:\p{Lu}[\p{L}'.-]*\s+){0,2}\p{Lu}[\p{L}'.-]*)\s+to\s+(\p{L}+)/u;
/**
 * Sentences that describe rather than assign: conditions, hedges, the reported past. They rule
 * out weak cues (`will`, `should`, a list item's verb); a strong obligation (`must`, `shall`)
 * is ruled out only by a sentence that opens with a condition ({@link EN_CONDITIONAL}).
 */
const EN_NOT_ACTION = /(?<![\p{L}])(?:if|unless|could|might|would|was|were|had|did)(?![\p{L}])/u;
const EN_CONDITIONAL = /^(?:if|unless|whether)(?![\p{L}])/u;
/** Subjects a `will`/`should` sentence may have and still be an assignment. */
const EN_ROLE =
  /(?<![\p{L}])(?:team|manager|lead|leader|department|supplier|contractor|client|customer|vendor|party|tenant|landlord|buyer|seller|engineer|officer|committee|board|director|owner|coordinator|administrator|analyst|consultant|company|provider|it|hr|finance|legal|ops|security|procurement|we|you|i)(?![\p{L}])/u;
const EN_OWNER_AFTER =
  /(?:assigned to|owner\s*[:-]|responsible\s*[:-]|owned by|led by|\(\s*owner\s*:?)\s*((?:the\s+)?(?:\p{Lu}[\p{L}'.-]*|[\p{L}]+)(?:\s+\p{Lu}[\p{L}'.-]*){0,2})/u;
/** `Tom, please fix…`: the person addressed. */
const EN_VOCATIVE = /^((?:\p{Lu}[\p{L}'.-]*)(?:\s+\p{Lu}[\p{L}'.-]*)?),\s+(?:please|kindly)\b/u;
const EN_OWNER_DASH = /[—–-]\s*((?:\p{Lu}[\p{L}'.-]*)(?:\s+\p{Lu}[\p{L}'.-]*){0,2})\s*\)?\s*\.?$/u;

// --- Arabic (folded spelling) ----------------------------------------------------------------

const AR_MARKER = /^(?:اجراء|الاجراء|مهمه|المهمه|اجراء مطلوب|اجراءات)\s*[:\-–]/u;
/** Obligation and assignment cues, after an optional `و` or `ف` (`ويجب`). */
const AR_CUE =
  /(?<![\p{L}])[وف]?(يجب|ينبغي|سوف|يرجي|الرجاء|نرجو|يتعين|يلزم|يلتزم|تلتزم|يتولي|تتولي|يقوم|تقوم|مطلوب|المطلوب|تم تكليف|كلف|كلفت|تكليف|تعهد|تتعهد|يتعهد|اتفق علي ان|علي\s+[^\s،.]+(?:\s+[^\s،.]+){0,3}\s+ان)(?![\p{L}])/u;
/** The future prefix on an imperfect verb: سيقوم، سترسل، سنراجع. */
const AR_FUTURE = /(?<![\p{L}])س[يتن][\p{L}]{2,}/u;
/** Words that look like the future prefix but are not verbs. */
const AR_NOT_FUTURE = new Set([
  'سياسه',
  'سيارات',
  'سياره',
  'سيناريو',
  'ستون',
  'سنه',
  'سنوات',
  'سيرفر',
  'سنوي',
  'سنويا',
  'سيولة',
  'سيوله',
  'ستة',
  'سته',
  'سيبراني',
  'السيبراني',
  'سياق',
  'سيطره',
]);
/** As {@link EN_NOT_ACTION}: these rule out the future prefix; an obligation cue only a condition. */
const AR_NOT_ACTION = /(?<![\p{L}])(?:اذا|لو|ربما|قد|كان|كانت|تم(?! تكليف)|انجز|اكتمل)(?![\p{L}])/u;
const AR_CONDITIONAL = /^(?:و)?(?:اذا|لو|في حال|ان)(?![\p{L}])/u;
const AR_OWNER_AFTER =
  /(?:المسؤول|المسؤوله|المسوول|المسووله|المكلف|بمسؤوليه|مسؤوليه)\s*[:-]?\s*((?:[\p{L}]+)(?:\s+[\p{L}]+){0,2})/u;
const AR_ALA = /(?<![\p{L}])علي\s+((?:[^\s،.:]+)(?:\s+[^\s،.:]+){0,3}?)\s+ان(?![\p{L}])/u;
const AR_SUBJECT_AFTER_VERB =
  /(?<![\p{L}])(?:يتولي|تتولي|يقوم|تقوم|سيقوم|ستقوم|سيتولي|ستتولي|تعهد|يتعهد|تتعهد|يلتزم|تلتزم|كلف|كلفت|تم تكليف)\s+((?:[^\s،.:]+)(?:\s+[^\s،.:]+){0,2}?)(?=\s+(?:ب|باعداد|بارسال|بمراجعه|بتحديث|بتسليم|بالتواصل|بتجهيز|بدفع|بتوقيع|بجدوله|بمتابعه|بتقديم)|\s*$|[،.])/u;
/** Arabic honorifics and role words that begin an owner (kept in the owner). */
const AR_TITLE = /^(?:الاستاذ|الاستاذه|المهندس|المهندسه|الدكتور|الدكتوره|السيد|السيده|م\.|د\.)$/u;
const AR_OWNER_STOP = new Set([
  'ان',
  'علي',
  'في',
  'من',
  'الي',
  'قبل',
  'بحلول',
  'خلال',
  'يوم',
  'بعد',
]);

/**
 * The action items of a document, one per sentence that states one, by bilingual cue patterns:
 *
 * - explicit markers (`Action:`, `TODO`, `إجراء:`), a sentence under an "Action items" /
 *   "Next steps" / "الإجراءات" heading, a list item that starts with an imperative verb (`Send
 *   …`), `please` / `يرجى` / `الرجاء`;
 * - obligation and intention: `must / shall / should / needs to / has to / is responsible for`,
 *   and `will` only after a name or a role (`Sarah will send…`, `the Supplier will…`), so that
 *   descriptions (`the system will support…`) are left out; minutes' `Omar to send…`; in Arabic
 *   `يجب / ينبغي / سوف / يتعين / يلتزم / يتولى / يقوم / تم تكليف / على … أن` and the future
 *   prefix (`سيقوم`, `ترسل` after `س`);
 * - left out: questions, conditionals and reports of what was done (`if`, `could`, `was`,
 *   `completed`, `إذا`, `ربما`, `تم`), unless an explicit marker says otherwise.
 *
 * The owner is the name or role after `assigned to / owner: / المسؤول / المكلف`, else the
 * subject before the cue (up to three capitalised words or a role phrase), else the words
 * between `على` and `أن`, else the one after `يتولى / يقوم / كلف`. The due date is the first
 * date expression of the sentence (see `./dates.ts`).
 */
export function extractActionItems(
  sentences: readonly Sentence[],
  reference: Date,
): ExtractedActionItem[] {
  const out: ExtractedActionItem[] = [];
  for (const sentence of sentences) {
    if (sentence.heading || /[?؟]\s*$/u.test(sentence.text)) continue;
    const folded = foldForMatching(sentence.text);
    const arabic =
      /\p{sc=Arabic}/u.test(sentence.text) && !/\p{sc=Latin}{3}/u.test(sentence.text.slice(0, 12));
    const found = arabic
      ? arabicCue(folded, sentence)
      : englishCue(sentence.text, folded, sentence);
    if (found === undefined) continue;
    const dates = findDates(folded.text, reference, arabic);
    const due = dates[0];
    out.push({
      text: sentence.text,
      owner: cleanOwner(found.owner),
      due_date: due?.date ?? null,
      due_text: due ? sentence.text.slice(folded.origin[due.start], endOf(folded, due.end)) : null,
      span: { start: sentence.start, end: sentence.end },
      confidence: found.confidence,
    });
  }
  return out;
}

type Cue = { owner: string | undefined; confidence: number };

function englishCue(text: string, folded: Folded, sentence: Sentence): Cue | undefined {
  const lower = folded.text;
  const ownerAfter = EN_OWNER_AFTER.exec(text)?.[1] ?? EN_OWNER_DASH.exec(text)?.[1];
  if (EN_MARKER.test(lower)) {
    const rest = text.replace(/^[^:\-–]+[:\-–]\s*/u, '');
    return { owner: ownerAfter ?? subjectBefore(rest, EN_MODAL) ?? nameTo(rest), confidence: 1 };
  }
  const nameToOwner = nameTo(text);
  if (nameToOwner) return { owner: ownerAfter ?? nameToOwner, confidence: 0.9 };
  const firstWord = lower.match(/^[\p{L}]+/u)?.[0] ?? '';
  const imperative = EN_IMPERATIVES.has(firstWord);
  if (EN_PLEASE.test(lower)) {
    const addressed = EN_VOCATIVE.exec(text)?.[1];
    return { owner: ownerAfter ?? addressed, confidence: 0.85 };
  }
  const modal = EN_MODAL.exec(lower);
  const descriptive = EN_NOT_ACTION.test(lower);
  const weak = modal?.[1] === 'will' || modal?.[1] === 'should';
  if (modal && !(weak ? descriptive : EN_CONDITIONAL.test(lower))) {
    const subject = subjectBefore(text, EN_MODAL);
    const subjectLower = subject?.toLowerCase() ?? '';
    const personal =
      subject !== undefined && (/^\p{Lu}/u.test(subject) || EN_ROLE.test(subjectLower));
    // Under a risks heading `will` predicts (`the site will go offline`) rather than assigns.
    const predictive = weak && sentence.section === 'risks';
    if (!predictive && (!weak || personal || ownerAfter || sentence.section === 'actions')) {
      const owner =
        ownerAfter ?? (personal && !/^(?:we|i|you)$/iu.test(subject ?? '') ? subject : undefined);
      return { owner, confidence: weak ? 0.6 : 0.75 };
    }
  }
  if (imperative && (sentence.listItem || sentence.section === 'actions' || ownerAfter)) {
    return { owner: ownerAfter, confidence: 0.7 };
  }
  if (sentence.section === 'actions' && !descriptive) return { owner: ownerAfter, confidence: 0.5 };
  return undefined;
}

function nameTo(text: string): string | undefined {
  const m = EN_NAME_TO.exec(text);
  if (!m) return undefined;
  const verb = (m[2] as string).toLowerCase();
  return EN_IMPERATIVES.has(verb) || /^(?:[a-z]+)$/u.test(verb) ? (m[1] as string) : undefined;
}

/** The subject before the cue: the last capitalised words or role phrase before it. */
function subjectBefore(text: string, cue: RegExp): string | undefined {
  const m = cue.exec(text.toLowerCase());
  if (!m) return undefined;
  const before = text
    .slice(0, m.index)
    .trim()
    .replace(/[,;:]$/u, '');
  if (before === '') return undefined;
  const words = before.split(/\s+/u);
  const tail = words.slice(-4);
  // "The Supplier", "the finance team", "Sarah Ahmed", "IT".
  const capitalised = /((?:\p{Lu}[\p{L}'.-]*\s*){1,3})$/u.exec(before)?.[1]?.trim();
  const role = /((?:the\s+)?(?:[\p{L}-]+\s+){0,2}[\p{L}-]+)$/u.exec(tail.join(' '))?.[1];
  if (capitalised && !/^(?:The|A|An|This|That|Each|All|Both)$/u.test(capitalised)) {
    const withArticle = /(?:^|\s)(the)\s+$/iu.exec(
      before.slice(0, before.length - capitalised.length),
    );
    return withArticle ? `${withArticle[1]} ${capitalised}` : capitalised;
  }
  if (role && EN_ROLE.test(role.toLowerCase())) return role;
  return undefined;
}

function arabicCue(folded: Folded, sentence: Sentence): Cue | undefined {
  const t = folded.text;
  const ownerAfter = matchOriginal(folded, AR_OWNER_AFTER);
  if (AR_MARKER.test(t)) return { owner: ownerAfter ?? arabicSubject(folded), confidence: 1 };
  const cue = AR_CUE.exec(t);
  const future = [...t.matchAll(new RegExp(AR_FUTURE.source, 'gu'))].some(
    (m) => !AR_NOT_FUTURE.has(m[0]) && !AR_NOT_FUTURE.has(m[0].replace(/^ال/u, '')),
  );
  const descriptive = AR_NOT_ACTION.test(t);
  // Under a risks heading a future verb predicts (`سيتوقف الوصول`): only an obligation assigns.
  const predictive = future && !cue && sentence.section === 'risks';
  const ruledOut = cue ? AR_CONDITIONAL.test(t) : descriptive;
  if ((cue || future) && !predictive && !ruledOut) {
    return { owner: ownerAfter ?? arabicSubject(folded), confidence: cue ? 0.75 : 0.6 };
  }
  if (sentence.section === 'actions' && !descriptive) {
    return { owner: ownerAfter ?? arabicSubject(folded), confidence: 0.5 };
  }
  return undefined;
}

function arabicSubject(folded: Folded): string | undefined {
  return (
    matchOriginal(folded, AR_ALA) ??
    matchOriginal(folded, AR_SUBJECT_AFTER_VERB) ??
    obligedParty(folded, AR_OBLIGED) ??
    obligedParty(folded, AR_ASKED) ??
    obligedParty(folded, AR_TAKES)
  );
}

/**
 * `يجب على أحمد العتيبي التواصل…`: the party after `على` (or `يرجى من`), followed by a verbal
 * noun rather than `أن`. Its first word, and the next when it is a definite family name or qualifier
 * (`أحمد العتيبي`, `فريق التسويق`, `الطرف الثاني`); a definite first word (`المورد`) stands alone
 * unless it is `الطرف`.
 */
function obligedParty(folded: Folded, pattern: RegExp): string | undefined {
  const m = pattern.exec(folded.text);
  if (!m) return undefined;
  const words = [...(m[1] as string).matchAll(/[^\s،.:]+/gu)];
  const first = words[0];
  if (!first) return undefined;
  const second = words[1];
  const base = m.index + m[0].indexOf(m[1] as string);
  const takeSecond =
    second?.[0].startsWith('ال') && (!first[0].startsWith('ال') || first[0] === 'الطرف');
  const last = takeSecond ? (second as RegExpExecArray) : first;
  return originalText(folded, base + first.index, base + last.index + last[0].length);
}
const AR_OBLIGED = /(?<![\p{L}])(?:يجب|ينبغي|يتعين|يلزم)\s+علي\s+([^،.:]+)/u;
/** `تتولى نورة السبيعي رفع…`: the one who takes a task, before its verbal noun. */
const AR_TAKES = /(?<![\p{L}])(?:يتولي|تتولي|سيتولي|ستتولي)\s+([^،.:]+)/u;
/** `يرجى من سلمان إرسال…`: the one asked, read as {@link obligedParty} reads `على`'s party. */
const AR_ASKED = /(?<![\p{L}])(?:يرجي|نرجو|الرجاء|ارجو)\s+من\s+([^،.:]+)/u;

/** Group 1 of `pattern` on the folded text, as written in the original. */
function matchOriginal(folded: Folded, pattern: RegExp): string | undefined {
  const m = pattern.exec(folded.text);
  if (!m || m[1] === undefined) return undefined;
  const start = m.index + m[0].indexOf(m[1]);
  return originalText(folded, start, start + m[1].length);
}

function originalText(folded: Folded, start: number, end: number): string {
  return folded.source.slice(folded.origin[start], endOf(folded, end));
}
const endOf = (folded: Folded, end: number) => (folded.origin[end - 1] ?? -1) + 1;

function cleanOwner(owner: string | undefined): string | null {
  if (owner === undefined) return null;
  let words = owner
    .trim()
    .replace(/[.,;:)]+$/u, '')
    .split(/\s+/u);
  // Drop trailing Arabic function words the lazy patterns may have taken.
  while (words.length > 1 && AR_OWNER_STOP.has(foldForMatching(words.at(-1) as string).text)) {
    words = words.slice(0, -1);
  }
  if (words.length > 1 && AR_TITLE.test(foldForMatching(words[0] as string).text)) {
    return words.slice(0, 3).join(' ');
  }
  const cleaned = words.join(' ');
  return cleaned === '' ? null : cleaned;
}
