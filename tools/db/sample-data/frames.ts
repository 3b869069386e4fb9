import type { Pair, Sentence } from './types.ts';

/**
 * Frames shared by every category. `{s}` takes the subject, `{p}` a place; `{S}` and `{P}` are
 * the same with the first letter capitalised (English only; Arabic has no case). `ب{s}` joins
 * the preposition to the subject as Arabic writes it (بالطاقة). In Arabic, `{w}` is the
 * conjunction و, dropped at the start of a paragraph.
 */

/** Titles without a place. */
export const TITLE_FRAMES: Pair[] = [
  { en: '{S}: what changes this year', ar: '{s}: ما الذي يتغير هذا العام' },
  { en: 'A practical guide to {s}', ar: 'دليل عملي حول {s}' },
  { en: 'Five questions about {s}', ar: 'خمسة أسئلة حول {s}' },
  { en: 'Understanding {s}: an overview for beginners', ar: 'فهم {s}: نظرة عامة للمبتدئين' },
  { en: 'The numbers behind {s}', ar: 'الأرقام وراء {s}' },
  { en: '{S}: myths and facts', ar: '{s}: خرافات وحقائق' },
  { en: '{S} between promise and reality', ar: '{s} بين الوعد والواقع' },
  { en: 'Ten lessons about {s}', ar: 'عشرة دروس عن {s}' },
  { en: 'The importance of {s} in the coming years', ar: 'أهمية {s} في السنوات المقبلة' },
  { en: '{S}: a look at the next decade', ar: '{s}: نظرة إلى العقد المقبل' },
  { en: 'Common questions about {s}, answered', ar: 'إجابات عن الأسئلة الشائعة حول {s}' },
];

/** Titles with a place. */
export const PLACE_TITLE_FRAMES: Pair[] = [
  { en: '{S} in {p}: lessons from the past decade', ar: '{s} في {p}: دروس من العقد الماضي' },
  { en: '{P} and the future of {s}', ar: '{p} ومستقبل {s}' },
  { en: 'The future of {s} in {p}', ar: 'مستقبل {s} في {p}' },
  { en: 'What experts say about {s} in {p}', ar: 'ماذا يقول الخبراء عن {s} في {p}' },
  { en: 'A new report on {s} in {p}', ar: 'تقرير جديد عن {s} في {p}' },
  { en: '{S} in {p}: where things stand', ar: '{s} في {p}: أين نقف اليوم' },
  { en: 'Inside {p}: a closer look at {s}', ar: 'من داخل {p}: نظرة أقرب إلى {s}' },
];

/** Places, all usable after في and as the first word of a title. */
export const PLACES: Array<Pair & { key: string }> = [
  { key: 'arab-cities', en: 'Arab cities', ar: 'المدن العربية' },
  { key: 'gulf', en: 'the Gulf region', ar: 'منطقة الخليج' },
  { key: 'north-africa', en: 'North Africa', ar: 'شمال أفريقيا' },
  { key: 'levant', en: 'the Levant', ar: 'بلاد الشام' },
  { key: 'rural', en: 'rural communities', ar: 'المجتمعات الريفية' },
  { key: 'europe', en: 'European capitals', ar: 'العواصم الأوروبية' },
  { key: 'growing-cities', en: 'fast-growing cities', ar: 'المدن سريعة النمو' },
  { key: 'coast', en: 'coastal towns', ar: 'المدن الساحلية' },
];

/** Summaries; those with `{p}` are used only for items that have a place. */
export const SUMMARY_FRAMES: Pair[] = [
  {
    en: 'An accessible overview of {s}, with the context, the figures and what to watch next.',
    ar: 'نظرة ميسّرة على {s}، مع السياق والأرقام وما ينبغي متابعته لاحقًا.',
  },
  {
    en: 'Experts and practitioners answer the main questions about {s}.',
    ar: 'خبراء وممارسون يجيبون عن أبرز الأسئلة المتعلقة ب{s}.',
  },
  {
    en: 'A data-driven look at {s} and the choices ahead.',
    ar: 'قراءة قائمة على البيانات في {s} والخيارات المقبلة.',
  },
  {
    en: 'What is changing in {s}, who is affected, and what readers can do about it.',
    ar: 'ما الذي يتغير في {s}، ومن المتأثر به، وما الذي يمكن للقراء فعله.',
  },
];

export const PLACE_SUMMARY_FRAMES: Pair[] = [
  {
    en: 'What changed in {s} this year, and why it matters for readers in {p}.',
    ar: 'ما الذي تغيّر في {s} هذا العام، ولماذا يهم ذلك القراء في {p}.',
  },
  {
    en: 'Field reports and figures from {p} on {s}.',
    ar: 'تقارير ميدانية وأرقام من {p} حول {s}.',
  },
];

/** Body sentences about the subject, used by every category. */
export const SUBJECT_SENTENCES: Sentence[] = [
  {
    en: 'Interest in {s} has grown steadily over the past few years.',
    ar: '{w}تزايد الاهتمام ب{s} بشكل مطّرد خلال السنوات القليلة الماضية.',
  },
  {
    en: 'Specialists say that dealing with {s} requires long-term planning rather than quick fixes.',
    ar: '{w}يرى المختصون أن التعامل مع {s} يتطلب تخطيطًا طويل الأمد لا حلولًا سريعة.',
  },
  {
    en: 'The debate about {s} is no longer limited to specialists.',
    ar: '{w}لم يعد النقاش حول {s} مقتصرًا على المختصين.',
  },
  {
    en: 'Recent data suggest that the effect of {s} on daily life is larger than many people expect.',
    ar: '{w}تشير البيانات الحديثة إلى أن أثر {s} في الحياة اليومية أكبر مما يتوقعه كثيرون.',
  },
  {
    en: 'Any serious discussion of {s} should start with reliable figures.',
    ar: '{w}ينبغي أن يبدأ أي نقاش جاد حول {s} بأرقام موثوقة.',
  },
  {
    en: 'Local initiatives show that progress in {s} is possible on modest budgets.',
    ar: '{w}تُثبت المبادرات المحلية أن التقدم في {s} ممكن بميزانيات متواضعة.',
  },
  {
    en: 'Yet the gap between policy and practice in {s} remains wide.',
    ar: 'غير أن الفجوة بين السياسات والتطبيق في {s} لا تزال واسعة.',
    midParagraph: true,
  },
  {
    en: 'Anyone who wants to follow {s} closely should watch three indicators.',
    ar: '{w}من يرغب في متابعة {s} عن كثب فعليه أن يراقب ثلاثة مؤشرات.',
  },
  {
    en: 'Public awareness of {s} has improved recently, although some misconceptions persist.',
    ar: '{w}تحسّن الوعي العام ب{s} في الآونة الأخيرة، وإن كانت بعض المفاهيم الخاطئة لا تزال قائمة.',
  },
  {
    en: 'The cost of ignoring {s} is usually higher than the cost of acting early.',
    ar: '{w}عادةً ما تكون كلفة تجاهل {s} أعلى من كلفة التحرك المبكر.',
  },
];

/** Closing sentences (last paragraph). */
export const CLOSING_SENTENCES: Sentence[] = [
  {
    en: 'Over the coming year, decisions about {s} will shape budgets and priorities.',
    ar: '{w}خلال العام المقبل، ستحدد القرارات المتعلقة ب{s} الميزانيات والأولويات.',
  },
  {
    en: 'In short, {s} is a subject that deserves patient, evidence-based attention.',
    ar: '{w}باختصار، فإن {s} موضوع يستحق اهتمامًا متأنيًا قائمًا على الأدلة.',
  },
  {
    en: 'We will keep following {s} and report back as new figures are published.',
    ar: '{w}سنواصل متابعة {s} وننقل إليكم المستجدات مع صدور أرقام جديدة.',
  },
];

/** Body sentences about the place. */
export const PLACE_SENTENCES: Sentence[] = [
  { en: 'In {p}, the picture is mixed.', ar: 'أما في {p}، فالصورة متباينة.' },
  {
    en: 'Several initiatives in {p} are worth following.',
    ar: '{w}ثمة مبادرات عدة في {p} تستحق المتابعة.',
  },
  {
    en: 'Experience from {p} shows what works and what does not.',
    ar: '{w}تكشف التجربة في {p} ما ينجح وما لا ينجح.',
  },
];
