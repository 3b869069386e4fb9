import type { DocumentType } from '../../../shared/documents/types.ts';
import type { Article } from '../../documents/fixtures.ts';

/**
 * The sample organisation's documents, uploaded through the API when `npm run dev` starts
 * (`tools/dev-documents.ts`) so that the pipeline processes them as it would any upload: a
 * meeting's minutes as a PDF of three pages, an incident report in Arabic as DOCX, a vendor
 * agreement as Markdown and an Arabic style guide as HTML. Between them they have action items
 * with owners and dates, risks of each severity, and passages to cite, in both languages.
 */
export type SampleDocument = {
  type: DocumentType;
  fileName: string;
  locale: 'en' | 'ar';
  /** The slug of the sample category it files under (`categories.ts`). */
  category: string;
  tags: string[];
  visibility: 'organization' | 'private';
  article: Article;
};

export const SAMPLE_DOCUMENTS: SampleDocument[] = [
  {
    type: 'pdf',
    fileName: 'editorial-planning-minutes-2026-12.pdf',
    locale: 'en',
    category: 'technology',
    tags: ['minutes', 'planning'],
    visibility: 'organization',
    article: {
      lang: 'en',
      title: 'Editorial Planning Meeting: Minutes, 3 December 2026',
      sections: [
        {
          heading: 'Attendance and agenda',
          paragraphs: [
            'Present were Huda Al-Mansouri (chair), Daniel Brooks, Layla Nasser and Emma Clarke. The meeting reviewed the coverage plan for the first quarter of 2027, the state of the Arabic translation queue and the move of the publishing service to the new cloud region.',
            'The chair opened by noting that readership of the bilingual explainers grew by a third since September, while the newsletter lost subscribers for the second month running.',
          ],
        },
        {
          heading: 'Decisions and action items',
          paragraphs: [
            'The team agreed to publish a weekly explainer on the regional elections in both languages from January.',
            'Emma Clarke will draft the first election explainer by 15 January 2027.',
            'Layla Nasser is responsible for the Arabic edition of every explainer and will hire two freelance translators by 31 January 2027.',
            'Daniel Brooks must send the revised newsletter design to the board by 20 December 2026.',
          ],
          list: [
            'Action: the data desk to publish the elections dashboard before the first debate.',
            'Action: Huda Al-Mansouri to confirm the translation budget with finance next week.',
          ],
        },
        {
          heading: 'Risks',
          paragraphs: [
            'There is a serious risk that the translation budget runs out before March if the freelance rates rise again; this would delay the Arabic editions.',
            'The move to the new cloud region may cause a short outage of the publishing service; the team will schedule it on a quiet Sunday.',
            'A minor risk: the elections dashboard depends on a public data feed that has changed its format twice this year.',
          ],
        },
      ],
    },
  },
  {
    type: 'docx',
    fileName: 'تقرير-حادثة-انقطاع-النشر.docx',
    locale: 'ar',
    category: 'technology',
    tags: ['incident', 'operations'],
    visibility: 'organization',
    article: {
      lang: 'ar',
      title: 'تقرير حادثة: انقطاع خدمة النشر في 28 نوفمبر 2026',
      sections: [
        {
          heading: 'ملخص الحادثة',
          paragraphs: [
            'توقفت خدمة النشر لمدة ساعتين وعشرين دقيقة مساء يوم الجمعة بسبب انتهاء صلاحية شهادة الأمان على خادم الواجهة. لم يتمكن المحررون خلال هذه المدة من نشر الأخبار العاجلة، وتأخر نشر أحد عشر خبرًا.',
            'اكتشف فريق البنية التحتية المشكلة بعد أربعين دقيقة من بدايتها، عندما أبلغ أحد المحررين عن رسائل خطأ متكررة في لوحة التحرير.',
          ],
        },
        {
          heading: 'الإجراءات المطلوبة',
          paragraphs: [
            'يجب على فريق البنية التحتية تفعيل التجديد التلقائي لجميع الشهادات قبل 20 ديسمبر 2026.',
            'يتولى عمر حداد إعداد تنبيه يرسل قبل انتهاء صلاحية أي شهادة بثلاثين يومًا.',
            'على سارة خليل أن تكتب دليلًا للمحررين يشرح ما يفعلونه عند تعطل خدمة النشر.',
          ],
        },
        {
          heading: 'المخاطر',
          paragraphs: [
            'هناك خطر كبير أن يتكرر الانقطاع في خدمات أخرى لأن ثلاث شهادات إضافية تنتهي صلاحيتها في يناير.',
            'قد يؤدي تأخر الأخبار العاجلة مرة أخرى إلى خسارة ثقة القراء، وهو خطر متوسط في رأي الفريق.',
          ],
          table: [
            ['البند', 'المدة'],
            ['اكتشاف المشكلة', '40 دقيقة'],
            ['إصلاح الشهادة', '100 دقيقة'],
          ],
        },
      ],
    },
  },
  {
    type: 'md',
    fileName: 'translation-vendor-agreement.md',
    locale: 'en',
    category: 'economy',
    tags: ['contract', 'translation'],
    visibility: 'organization',
    article: {
      lang: 'en',
      title: 'Translation Services Agreement: Summary of Terms',
      sections: [
        {
          heading: 'Scope',
          paragraphs: [
            'The vendor translates news articles between Arabic and English within four hours of receiving them, every day of the year, and up to 60,000 words a month.',
            'Articles marked urgent are translated within ninety minutes, at twice the standard rate.',
          ],
        },
        {
          heading: 'Obligations',
          paragraphs: [
            'The vendor shall keep every article confidential until it is published.',
            'The newsroom will pay each invoice within thirty days of receiving it.',
            'The vendor must deliver a monthly quality report by the fifth working day of each month.',
          ],
          table: [
            ['Service', 'Rate per word'],
            ['Standard', 'USD 0.08'],
            ['Urgent', 'USD 0.16'],
          ],
        },
        {
          heading: 'Termination and penalties',
          paragraphs: [
            'Either party may end the agreement with sixty days of written notice.',
            'A breach of confidentiality allows the newsroom to terminate immediately and claim damages; this is the most serious risk of the agreement.',
            'Late translations incur a penalty of five percent of the article fee per hour of delay.',
          ],
        },
      ],
    },
  },
  {
    type: 'html',
    fileName: 'دليل-الأسلوب.html',
    locale: 'ar',
    category: 'culture',
    tags: ['style-guide'],
    visibility: 'organization',
    article: {
      lang: 'ar',
      title: 'دليل الأسلوب التحريري لغرفة الأخبار',
      sections: [
        {
          heading: 'العناوين',
          paragraphs: [
            'يكتب العنوان بجملة فعلية قصيرة لا تزيد على اثنتي عشرة كلمة، ويتجنب المحرر علامات التعجب والأسئلة في عناوين الأخبار.',
            'تكتب الأرقام في العناوين بالأرقام العربية، وتكتب أسماء المؤسسات الأجنبية كما تعرف لدى القراء.',
          ],
        },
        {
          heading: 'المصادر',
          paragraphs: [
            'ينسب كل خبر إلى مصدر معلوم، ولا يقبل المصدر المجهول إلا بموافقة رئيس التحرير وبعد التحقق من المعلومة من مصدر ثان.',
            'يجب على المحرر أن يحفظ روابط المصادر الرقمية في ملف الخبر قبل النشر.',
          ],
          list: ['التحقق من التواريخ والأسماء قبل النشر.', 'ذكر تاريخ الوثيقة عند الاقتباس منها.'],
        },
        {
          heading: 'التصحيحات',
          paragraphs: [
            'ينشر التصحيح في أسفل الخبر مع تاريخه، ولا يحذف الخطأ من النص دون إشارة إليه، لأن إخفاء الخطأ يعرض المؤسسة لخطر فقدان مصداقيتها.',
          ],
        },
      ],
    },
  },
];
