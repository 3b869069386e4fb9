import { describe, expect, it } from 'vitest';
import { classifyDocument, suggestCategory } from '../../../../shared/ai/extractive/classify.ts';
import { findDates, referenceDay } from '../../../../shared/ai/extractive/dates.ts';
import { extract } from '../../../../shared/ai/extractive/index.ts';
import { extractKeyphrases } from '../../../../shared/ai/extractive/keyphrases.ts';
import { rankSentences } from '../../../../shared/ai/extractive/summary.ts';
import { foldForMatching, splitSentences } from '../../../../shared/ai/extractive/text.ts';

// A Saturday.
const REF = referenceDay('2026-12-05');
const dates = (text: string, arabic = false) =>
  findDates(foldForMatching(text).text, REF, arabic).map((d) => d.date);

describe('sentence splitting', () => {
  it('splits at English and Arabic punctuation and at line breaks, located in the input', () => {
    const text = 'First point. Dr. Smith agreed!\nهل انتهى العمل؟ نعم۔ تم';
    const sentences = splitSentences(text);
    expect(sentences.map((s) => s.text)).toEqual([
      'First point.',
      'Dr. Smith agreed!',
      'هل انتهى العمل؟',
      'نعم۔',
      'تم',
    ]);
    for (const s of sentences) expect(text.slice(s.start, s.end)).toBe(s.text);
  });

  it('splits at an Arabic comma only between two long clauses', () => {
    const short = splitSentences('حضر أحمد، وسارة، وخالد.');
    expect(short).toHaveLength(1);
    const long = splitSentences(
      'ناقش الفريق خطة الإطلاق الجديدة للمنتج في السوق السعودية خلال الربع الأول من العام، وقرر المدير تأجيل الحملة الإعلانية حتى تكتمل الترجمة الكاملة لجميع الصفحات.',
    );
    expect(long).toHaveLength(2);
  });

  it('drops list markers, and labels lines under an action or risk heading', () => {
    const sentences = splitSentences(
      'Next steps:\n- Send the plan.\n2. Book a room.\nالمخاطر\n• تأخر التوريد',
    );
    expect(sentences.map((s) => [s.text, s.heading, s.section])).toEqual([
      ['Next steps:', true, 'none'],
      ['Send the plan.', false, 'actions'],
      ['Book a room.', false, 'actions'],
      ['المخاطر', true, 'none'],
      ['تأخر التوريد', false, 'risks'],
    ]);
  });
});

describe('due dates', () => {
  it('resolves weekdays to the next one after the reference date', () => {
    expect(dates('by Friday')).toEqual(['2026-12-11']);
    expect(dates('on Saturday')).toEqual(['2026-12-12']);
    expect(dates('بحلول يوم الخميس', true)).toEqual(['2026-12-10']);
  });

  it('reads ISO, day-month and month-day dates, with Arabic-Indic digits', () => {
    expect(dates('by 2027-01-15')).toEqual(['2027-01-15']);
    expect(dates('before 14 December and March 3rd, 2027')).toEqual(['2026-12-14', '2027-03-03']);
    // A day-month already past this year is next year's.
    expect(dates('by 2 February')).toEqual(['2027-02-02']);
    expect(dates('قبل ١٥ ديسمبر', true)).toEqual(['2026-12-15']);
    expect(dates('في ٣ كانون الثاني ٢٠٢٧', true)).toEqual(['2027-01-03']);
    expect(dates('on 09/12/2026')).toEqual(['2026-12-09']);
  });

  it('reads relative expressions in both languages', () => {
    expect(dates('tomorrow')).toEqual(['2026-12-06']);
    expect(dates('within 10 days')).toEqual(['2026-12-15']);
    expect(dates('in two weeks')).toEqual(['2026-12-19']);
    expect(dates('by the end of the month')).toEqual(['2026-12-31']);
    expect(dates('خلال أسبوعين', true)).toEqual(['2026-12-19']);
    expect(dates('غداً', true)).toEqual(['2026-12-06']);
    expect(dates('الأسبوع القادم', true)).toEqual(['2026-12-06']);
    expect(dates('next week')).toEqual(['2026-12-07']);
  });

  it('leaves periods counted from another event unresolved, and dues this week or month at their end', () => {
    expect(dates('within 30 days of receipt')).toEqual([]);
    expect(dates('within 30 days')).toEqual(['2027-01-04']);
    expect(dates('خلال 3 أيام من استلام البلاغ', true)).toEqual([]);
    expect(dates('this month')).toEqual(['2026-12-31']);
    expect(dates('هذا الأسبوع', true)).toEqual(['2026-12-10']);
  });

  it('keeps the longer of two overlapping expressions', () => {
    expect(dates('on Friday, 11 December')).toEqual(['2026-12-11', '2026-12-11']);
    expect(findDates(foldForMatching('by 5 March 2027').text, REF, false)).toEqual([
      { date: '2027-03-05', start: 3, end: 15 },
    ]);
  });
});

describe('action items', () => {
  const actions = (text: string) =>
    extract(text, { referenceDate: '2026-12-05' }).action_items.map((a) => [
      a.text,
      a.owner,
      a.due_date,
    ]);

  it('finds English assignments with their owner and due date', () => {
    expect(
      actions(
        [
          'Omar to send the revised plan by Friday.',
          'Action: update the risk register (owner: Priya Nair).',
          'The Supplier shall deliver the servers within 30 days.',
          'Please confirm attendance by 2026-12-18.',
          'Sarah will book the venue tomorrow.',
        ].join('\n'),
      ),
    ).toEqual([
      ['Omar to send the revised plan by Friday.', 'Omar', '2026-12-11'],
      ['Action: update the risk register (owner: Priya Nair).', 'Priya Nair', null],
      ['The Supplier shall deliver the servers within 30 days.', 'The Supplier', '2027-01-04'],
      ['Please confirm attendance by 2026-12-18.', null, '2026-12-18'],
      ['Sarah will book the venue tomorrow.', 'Sarah', '2026-12-06'],
    ]);
  });

  it('keeps a strong obligation that mentions a consequence or a completion', () => {
    expect(
      actions(
        [
          'The migration must be completed by 18 December, otherwise we could lose the slot.',
          'يجب تحديث النظام فوراً لأن الثغرة قد تؤدي إلى اختراق.',
        ].join('\n'),
      ).map(([text]) => text),
    ).toEqual([
      'The migration must be completed by 18 December, otherwise we could lose the slot.',
      'يجب تحديث النظام فوراً لأن الثغرة قد تؤدي إلى اختراق.',
    ]);
  });

  it('leaves out descriptions, conditions, reports of the past and questions', () => {
    expect(
      actions(
        [
          'The new system will support single sign-on.',
          'If the vendor is late we could lose the slot.',
          'The team completed the audit last week.',
          'If the budget is approved, the vendor must start in March.',
          'Should we move the launch?',
        ].join('\n'),
      ),
    ).toEqual([]);
  });

  it('finds Arabic obligations with their owner and due date', () => {
    expect(
      actions(
        [
          'يجب على أحمد العتيبي التواصل مع المورد بحلول يوم الخميس.',
          'سيقوم خالد المطيري بإعداد تقرير التكاليف قبل ١٥ ديسمبر.',
          'على فريق التسويق أن يراجع الحملة خلال أسبوع.',
          'إجراء: تحديث سجل المخاطر (المسؤول: سارة القحطاني).',
          'وقد تم اعتماد الميزانية في الاجتماع السابق.',
        ].join('\n'),
      ),
    ).toEqual([
      ['يجب على أحمد العتيبي التواصل مع المورد بحلول يوم الخميس.', 'أحمد العتيبي', '2026-12-10'],
      ['سيقوم خالد المطيري بإعداد تقرير التكاليف قبل ١٥ ديسمبر.', 'خالد المطيري', '2026-12-15'],
      ['على فريق التسويق أن يراجع الحملة خلال أسبوع.', 'فريق التسويق', '2026-12-12'],
      ['إجراء: تحديث سجل المخاطر (المسؤول: سارة القحطاني).', 'سارة القحطاني', null],
    ]);
  });
});

describe('risks', () => {
  const risks = (text: string) => extract(text).risks.map((r) => [r.passage, r.severity]);

  it('finds risk statements with a severity from their wording and their passage', () => {
    const text = [
      'There is a critical risk that the certification slips.',
      'A minor delay in translation is possible.',
      'The vendor may miss the delivery window.',
      'The weather was pleasant.',
      'هناك خطر جسيم على موعد الإطلاق.',
      'قد يحدث تأخير طفيف في الترجمة.',
    ].join('\n');
    expect(risks(text)).toEqual([
      ['There is a critical risk that the certification slips.', 'high'],
      ['A minor delay in translation is possible.', 'low'],
      ['The vendor may miss the delivery window.', 'medium'],
      ['هناك خطر جسيم على موعد الإطلاق.', 'high'],
      ['قد يحدث تأخير طفيف في الترجمة.', 'low'],
    ]);
    const [first] = extract(text).risks;
    expect(text.slice(first?.span.start, first?.span.end)).toBe(first?.passage);
  });

  it('reads Arabic cues with their proclitics and accusative ending, and intensity alike', () => {
    expect(risks('يشكل استخدام الشبكات العامة خطراً مرتفعاً لتسريب البيانات.')).toEqual([
      ['يشكل استخدام الشبكات العامة خطراً مرتفعاً لتسريب البيانات.', 'high'],
    ]);
  });

  it('counts weak cues under a Risks heading', () => {
    expect(risks('Risks:\n- Budget could be tight in Q2.')).toEqual([
      ['Budget could be tight in Q2.', 'medium'],
    ]);
    expect(risks('Budget could be tight in Q2.')).toEqual([]);
  });
});

describe('summaries, tags, category and type', () => {
  const text = [
    'The billing migration moves invoices to the new billing platform.',
    'The billing platform stores invoices and payment records for every customer.',
    'Lunch was served at noon.',
    'Customers will see their invoices on the new billing platform from January.',
    'The migration team tested the invoices export twice.',
  ].join(' ');

  it('ranks central sentences first, deterministically, and keeps document order', () => {
    const sentences = splitSentences(text);
    const ranked = rankSentences(sentences);
    expect(ranked.at(-1)).toBe(2);
    expect(rankSentences(splitSentences(text))).toEqual(ranked);
    const { summaries } = extract(text);
    expect(summaries.short.spans).toHaveLength(1);
    expect(summaries.medium.spans.map((s) => s.start)).toEqual(
      [...summaries.medium.spans.map((s) => s.start)].sort((a, b) => a - b),
    );
    expect(summaries.detailed.spans).toHaveLength(5);
  });

  it('gives keyphrases that the text repeats as tags', () => {
    expect(extractKeyphrases(text, 'en', 3).map((k) => k.phrase)).toContain('billing platform');
  });

  it('suggests the category whose name the text is about, or none', () => {
    expect(suggestCategory(text, ['Sports', 'Billing', 'Weather'])?.name).toBe('Billing');
    expect(suggestCategory(text, ['Sports', 'Weather'])).toBeNull();
    expect(suggestCategory('فواتير العملاء والمدفوعات', ['الرياضة', 'المدفوعات'])?.name).toBe(
      'المدفوعات',
    );
  });

  it('classifies the document type by its cues', () => {
    expect(classifyDocument('Minutes of the meeting\nAttendees: A, B\nAgenda: budget')).toBe(
      'minutes',
    );
    expect(
      classifyDocument('This Agreement is made between the parties. The Supplier shall…'),
    ).toBe('contract');
    expect(classifyDocument('Subject: launch\nHi team,\nthe plan is attached.\nRegards')).toBe(
      'email',
    );
    expect(classifyDocument('فاتورة ضريبية\nالمبلغ المستحق: ٥٠٠ ريال')).toBe('invoice');
    expect(classifyDocument('A short note.')).toBe('other');
  });

  it('is deterministic', () => {
    expect(extract(text, { referenceDate: '2026-12-05' })).toEqual(
      extract(text, { referenceDate: '2026-12-05' }),
    );
  });
});
