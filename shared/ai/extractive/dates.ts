/**
 * Date expressions in English and Arabic, resolved to calendar dates (`YYYY-MM-DD`, UTC) against
 * a reference date (when the document was written or received). Patterns run on text folded by
 * `foldForMatching` (lower case, Arabic letters unified, Arabic-Indic digits as ASCII).
 *
 * Understood: ISO dates (`2027-03-05`); day and month names in either order with an optional
 * year (`5 March`, `March 5th, 2027`, `٥ مارس ٢٠٢٧`, `15 نيسان`; the Levantine month names
 * too); `DD/MM/YYYY` (day first, as both English outside the US and Arabic write it);
 * weekdays (`Friday`, `by next Tuesday`, `يوم الخميس`); `today`, `tomorrow`, `اليوم`, `غدا`,
 * `بعد غد`; `end of (the) week / month`, `نهايه الاسبوع / الشهر`; `next week`, `الاسبوع
 * القادم / المقبل` (its Monday / Sunday); `in / within N days / weeks`, `خلال N ايام /
 * اسابيع`, `خلال اسبوع / اسبوعين`.
 *
 * A period counted from another event (`within 30 days of receipt`, `خلال ٣ أيام من استلام`) has
 * no calendar date and is not read; `this week` and `this month` are due at their end.
 *
 * A date without a year is the next such date on or after the reference date; a weekday is the
 * next one strictly after it (a Friday's "by Friday" means the week after). The end of the week is
 * Friday in English and Thursday in Arabic (the last working day where each is mostly written).
 */
export type FoundDate = { date: string; start: number; end: number };

const EN_MONTHS = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];
const EN_MONTH_SHORT = EN_MONTHS.map((m) => m.slice(0, 3));
const AR_MONTHS = [
  ['يناير', 'كانون الثاني'],
  ['فبراير', 'شباط'],
  ['مارس', 'اذار'],
  ['ابريل', 'نيسان'],
  ['مايو', 'ايار'],
  ['يونيو', 'حزيران'],
  ['يوليو', 'تموز'],
  ['اغسطس', 'اب'],
  ['سبتمبر', 'ايلول'],
  ['اكتوبر', 'تشرين الاول'],
  ['نوفمبر', 'تشرين الثاني'],
  ['ديسمبر', 'كانون الاول'],
];
const EN_DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const AR_DAYS = ['الاحد', 'الاثنين', 'الثلاثاء', 'الاربعاء', 'الخميس', 'الجمعه', 'السبت'];

const monthIndex = new Map<string, number>();
EN_MONTHS.forEach((m, i) => {
  monthIndex.set(m, i);
  monthIndex.set(EN_MONTH_SHORT[i] as string, i);
});
monthIndex.set('sept', 8);
AR_MONTHS.forEach((names, i) => {
  for (const name of names) monthIndex.set(name, i);
});
const MONTH = `(${[...monthIndex.keys()].sort((a, b) => b.length - a.length).join('|')})(?![\\p{L}])`;
const DAY = '(\\d{1,2})(?:st|nd|rd|th)?';
const YEAR = '(?:,?\\s*(\\d{4}))?';
const WEEKDAY = `(${[...EN_DAYS, ...AR_DAYS].join('|')})`;
const NUMBER_WORDS: Record<string, number> = {
  a: 1,
  an: 1,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  ten: 10,
  fourteen: 14,
  thirty: 30,
};

type Rule = { pattern: RegExp; resolve: (m: RegExpExecArray, ref: Date, ar: boolean) => Date };

const RULES: Rule[] = [
  {
    pattern: /(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)/gu,
    resolve: (m) => utc(Number(m[1]), Number(m[2]) - 1, Number(m[3])),
  },
  {
    pattern: /(?<!\d)(\d{1,2})\/(\d{1,2})\/(\d{4})(?!\d)/gu,
    resolve: (m) => utc(Number(m[3]), Number(m[2]) - 1, Number(m[1])),
  },
  {
    pattern: new RegExp(
      `(?<![\\p{L}\\d])${DAY}(?:\\s+of)?\\s+(?:من\\s+)?(?:شهر\\s+)?${MONTH}${YEAR}`,
      'gu',
    ),
    resolve: (m, ref) => dayMonth(ref, Number(m[1]), m[2] as string, m[3]),
  },
  {
    pattern: new RegExp(`(?<![\\p{L}])${MONTH}\\.?\\s+${DAY}(?![\\d])${YEAR}`, 'gu'),
    resolve: (m, ref) => dayMonth(ref, Number(m[2]), m[1] as string, m[3]),
  },
  {
    pattern: new RegExp(
      `(?<![\\p{L}])(?:(next|this|coming)\\s+)?(?:يوم\\s+)?${WEEKDAY}(?:\\s+(?:القادم|المقبل))?(?![\\p{L}])`,
      'gu',
    ),
    resolve: (m, ref) => {
      const name = m[2] as string;
      const target = EN_DAYS.includes(name) ? EN_DAYS.indexOf(name) : AR_DAYS.indexOf(name);
      const ahead = (target - ref.getUTCDay() + 7) % 7 || 7;
      return addDays(ref, ahead);
    },
  },
  {
    pattern: /(?<![\p{L}])(?:today|tonight|end of (?:the )?day|eod|اليوم|نهايه اليوم)(?![\p{L}])/gu,
    resolve: (_m, ref) => ref,
  },
  {
    pattern: /(?<![\p{L}])(?:the day after tomorrow|بعد غد)(?![\p{L}])/gu,
    resolve: (_m, ref) => addDays(ref, 2),
  },
  {
    pattern: /(?<![\p{L}])(?:tomorrow|غدا|غداً)(?![\p{L}])/gu,
    resolve: (_m, ref) => addDays(ref, 1),
  },
  {
    pattern:
      /(?<![\p{L}])(?:end of (?:the |this )?week|this week|eow|نهايه (?:هذا )?الاسبوع|هذا الاسبوع)(?![\p{L}])/gu,
    resolve: (_m, ref, ar) => {
      const last = ar ? 4 : 5;
      return addDays(ref, (last - ref.getUTCDay() + 7) % 7);
    },
  },
  {
    pattern:
      /(?<![\p{L}])(?:end of (?:the |this )?month|this month|eom|نهايه (?:هذا )?الشهر|هذا الشهر)(?![\p{L}])/gu,
    resolve: (_m, ref) => utc(ref.getUTCFullYear(), ref.getUTCMonth() + 1, 0),
  },
  {
    pattern: /(?<![\p{L}])(?:next week|الاسبوع (?:القادم|المقبل))(?![\p{L}])/gu,
    resolve: (_m, ref, ar) => {
      const first = ar ? 0 : 1;
      return addDays(ref, (first - ref.getUTCDay() + 7) % 7 || 7);
    },
  },
  {
    pattern:
      /(?<![\p{L}])(?:in|within)\s+(\d{1,3}|a|an|one|two|three|four|five|six|seven|ten|fourteen|thirty)\s+(?:(business|working)\s+)?(days?|weeks?)(?![\p{L}])(?!\s+(?:of|from|after)\s)/gu,
    resolve: (m, ref) => {
      const count = /\d/.test(m[1] as string) ? Number(m[1]) : (NUMBER_WORDS[m[1] as string] ?? 1);
      return addDays(ref, (m[3] as string).startsWith('week') ? count * 7 : count);
    },
  },
  {
    pattern:
      /(?<![\p{L}])(?:خلال|في غضون)\s+(?:(\d{1,3})\s+)?(يوما|ايام|يوم|اسبوعين|اسبوع|اسابيع)(?![\p{L}])(?!\s+(?:من|بعد)\s)/gu,
    resolve: (m, ref) => {
      const unit = m[2] as string;
      if (unit === 'اسبوعين') return addDays(ref, 14);
      const count = m[1] === undefined ? 1 : Number(m[1]);
      return addDays(ref, unit.startsWith('اسب') ? count * 7 : count);
    },
  },
];

/**
 * Every date expression in `folded` (already folded), earliest first; where two overlap, the
 * longer wins (`Friday, 5 March` is one date, from its explicit day). Offsets are in `folded`.
 */
export function findDates(folded: string, reference: Date, arabic: boolean): FoundDate[] {
  const found: FoundDate[] = [];
  for (const rule of RULES) {
    rule.pattern.lastIndex = 0;
    for (let m = rule.pattern.exec(folded); m !== null; m = rule.pattern.exec(folded)) {
      const date = rule.resolve(m, reference, arabic);
      if (Number.isNaN(date.getTime())) continue;
      found.push({ date: iso(date), start: m.index, end: m.index + m[0].length });
    }
  }
  found.sort((a, b) => b.end - b.start - (a.end - a.start) || a.start - b.start);
  const kept: FoundDate[] = [];
  for (const candidate of found) {
    if (kept.some((k) => candidate.start < k.end && k.start < candidate.end)) continue;
    kept.push(candidate);
  }
  return kept.sort((a, b) => a.start - b.start);
}

/** The reference date as a UTC midnight (a string must be `YYYY-MM-DD` or a full timestamp). */
export function referenceDay(reference: Date | string | undefined): Date {
  const d = reference === undefined ? new Date() : new Date(reference);
  return utc(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
}

function dayMonth(ref: Date, day: number, monthName: string, year: string | undefined): Date {
  const month = monthIndex.get(monthName);
  if (month === undefined || day < 1 || day > 31) return new Date(Number.NaN);
  if (year !== undefined) return utc(Number(year), month, day);
  const thisYear = utc(ref.getUTCFullYear(), month, day);
  return thisYear.getTime() >= ref.getTime() ? thisYear : utc(ref.getUTCFullYear() + 1, month, day);
}

const utc = (year: number, month: number, day: number) => new Date(Date.UTC(year, month, day));
const addDays = (d: Date, days: number) => new Date(d.getTime() + days * 86_400_000);
export const iso = (d: Date) => d.toISOString().slice(0, 10);
