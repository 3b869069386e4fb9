import type { CategoryBank } from './types.ts';

/** The sample organisation's sections, each with its subjects and body sentences. */
export const CATEGORY_BANKS: CategoryBank[] = [
  {
    slug: 'technology',
    names: { en: 'Technology', ar: 'التقنية' },
    descriptions: {
      en: 'Software, networks, data and the people who build them.',
      ar: 'البرمجيات والشبكات والبيانات ومن يصنعونها.',
    },
    subcategories: [
      {
        slug: 'artificial-intelligence',
        names: { en: 'Artificial intelligence', ar: 'الذكاء الاصطناعي' },
      },
    ],
    subjects: [
      {
        en: 'artificial intelligence',
        ar: 'الذكاء الاصطناعي',
        sub: 'artificial-intelligence',
        tags: ['ai'],
      },
      {
        en: 'generative AI models',
        ar: 'نماذج الذكاء الاصطناعي التوليدي',
        sub: 'artificial-intelligence',
        tags: ['ai', 'generative-ai'],
      },
      {
        en: 'machine translation',
        ar: 'الترجمة الآلية',
        sub: 'artificial-intelligence',
        tags: ['ai', 'language'],
      },
      { en: 'cloud computing', ar: 'الحوسبة السحابية', tags: ['cloud'] },
      { en: 'cybersecurity', ar: 'الأمن السيبراني', tags: ['security'] },
      { en: 'fifth-generation networks', ar: 'شبكات الجيل الخامس', tags: ['telecom', '5g'] },
      { en: 'smartphone apps', ar: 'تطبيقات الهواتف الذكية', tags: ['mobile'] },
      {
        en: 'personal data protection',
        ar: 'حماية البيانات الشخصية',
        tags: ['privacy', 'security'],
      },
      { en: 'open-source software', ar: 'البرمجيات مفتوحة المصدر', tags: ['open-source'] },
      { en: 'the internet of things', ar: 'إنترنت الأشياء', tags: ['iot'] },
    ],
    sentences: [
      {
        en: 'Companies are moving from small pilots to full deployments.',
        ar: '{w}تنتقل الشركات من التجارب المحدودة إلى التطبيق الواسع.',
      },
      {
        en: 'The shortage of skilled engineers remains the main obstacle.',
        ar: '{w}يبقى نقص المهندسين المؤهلين العقبة الرئيسية.',
      },
      {
        en: 'Regulators are still trying to keep pace with the speed of change.',
        ar: '{w}ما زالت الجهات التنظيمية تحاول مواكبة وتيرة التغيير.',
      },
      {
        en: 'Costs have fallen noticeably, which has opened the door to smaller organisations.',
        ar: '{w}انخفضت التكاليف بشكل ملحوظ، ما فتح الباب أمام المؤسسات الصغيرة.',
      },
      {
        en: 'Security and privacy have to be designed in from the first day, not added later.',
        ar: '{w}يجب أن تُصمَّم الحماية والخصوصية منذ اليوم الأول، لا أن تُضاف لاحقًا.',
      },
      {
        en: 'Support for Arabic is improving, but it still lags behind English.',
        ar: '{w}يتحسن دعم اللغة العربية، لكنه لا يزال متأخرًا عن الإنجليزية.',
      },
      {
        en: 'Users increasingly expect services that work quickly on any device.',
        ar: '{w}يتوقع المستخدمون بشكل متزايد خدمات تعمل بسرعة على أي جهاز.',
      },
      {
        en: 'Open standards make it easier to change provider without losing data.',
        ar: '{w}تسهّل المعايير المفتوحة تغيير مزوّد الخدمة دون فقدان البيانات.',
      },
    ],
  },
  {
    slug: 'economy',
    names: { en: 'Economy', ar: 'الاقتصاد' },
    descriptions: {
      en: 'Markets, businesses, jobs and the decisions that move them.',
      ar: 'الأسواق والأعمال والوظائف والقرارات التي تحركها.',
    },
    subcategories: [{ slug: 'startups', names: { en: 'Startups', ar: 'الشركات الناشئة' } }],
    subjects: [
      { en: 'small and medium enterprises', ar: 'المشروعات الصغيرة والمتوسطة', tags: ['sme'] },
      {
        en: 'startup funding',
        ar: 'تمويل الشركات الناشئة',
        sub: 'startups',
        tags: ['startups', 'funding'],
      },
      {
        en: 'venture capital',
        ar: 'رأس المال الجريء',
        sub: 'startups',
        tags: ['startups', 'funding'],
      },
      { en: 'e-commerce', ar: 'التجارة الإلكترونية', tags: ['ecommerce'] },
      { en: 'digital payments', ar: 'المدفوعات الرقمية', tags: ['fintech', 'payments'] },
      { en: 'inflation', ar: 'التضخم', tags: ['inflation'] },
      { en: 'the labour market', ar: 'سوق العمل', tags: ['jobs'] },
      {
        en: 'investment in renewable energy',
        ar: 'الاستثمار في الطاقة المتجددة',
        tags: ['investment', 'energy'],
      },
      { en: 'the freelance economy', ar: 'اقتصاد العمل الحر', tags: ['jobs', 'freelance'] },
      { en: 'family businesses', ar: 'الشركات العائلية', tags: ['business'] },
    ],
    sentences: [
      {
        en: 'Financing remains the first concern of most founders.',
        ar: '{w}يظل التمويل الشاغل الأول لمعظم المؤسسين.',
      },
      {
        en: 'Higher interest rates have made borrowing more expensive.',
        ar: '{w}جعل ارتفاع أسعار الفائدة الاقتراض أكثر كلفة.',
      },
      {
        en: 'Governments are simplifying licensing to attract new investment.',
        ar: '{w}تعمل الحكومات على تبسيط إجراءات الترخيص لجذب استثمارات جديدة.',
      },
      {
        en: 'Consumers are comparing prices more carefully than before.',
        ar: '{w}يقارن المستهلكون الأسعار بعناية أكبر من ذي قبل.',
      },
      {
        en: 'Exports to neighbouring markets offer room for growth.',
        ar: '{w}تتيح الصادرات إلى الأسواق المجاورة فرصًا للنمو.',
      },
      {
        en: 'Reliable statistics are essential for sound economic decisions.',
        ar: '{w}الإحصاءات الموثوقة ضرورية لاتخاذ قرارات اقتصادية سليمة.',
      },
      {
        en: 'The participation of women in the workforce is rising steadily.',
        ar: '{w}تشهد مشاركة المرأة في سوق العمل ارتفاعًا مطّردًا.',
      },
      {
        en: 'Digital tools are lowering the cost of reaching new customers.',
        ar: '{w}تسهم الأدوات الرقمية في خفض تكلفة الوصول إلى عملاء جدد.',
      },
    ],
  },
  {
    slug: 'health',
    names: { en: 'Health', ar: 'الصحة' },
    descriptions: {
      en: 'Prevention, care and everyday wellbeing.',
      ar: 'الوقاية والرعاية والعافية في الحياة اليومية.',
    },
    subcategories: [{ slug: 'nutrition', names: { en: 'Nutrition', ar: 'التغذية' } }],
    subjects: [
      { en: 'healthy eating', ar: 'التغذية الصحية', sub: 'nutrition', tags: ['nutrition'] },
      {
        en: 'the Mediterranean diet',
        ar: 'حمية البحر المتوسط',
        sub: 'nutrition',
        tags: ['nutrition', 'diet'],
      },
      {
        en: 'cutting down on sugar',
        ar: 'الحد من استهلاك السكر',
        sub: 'nutrition',
        tags: ['nutrition', 'sugar'],
      },
      { en: 'mental health', ar: 'الصحة النفسية', tags: ['mental-health'] },
      { en: 'sleep quality', ar: 'جودة النوم', tags: ['sleep'] },
      { en: 'physical activity', ar: 'النشاط البدني', tags: ['fitness'] },
      { en: 'telemedicine', ar: 'الطب عن بعد', tags: ['telemedicine', 'digital-health'] },
      { en: 'diabetes prevention', ar: 'الوقاية من السكري', tags: ['diabetes', 'prevention'] },
      { en: 'childhood vaccination', ar: 'تطعيمات الأطفال', tags: ['vaccines', 'children'] },
      { en: 'primary health care', ar: 'الرعاية الصحية الأولية', tags: ['primary-care'] },
    ],
    sentences: [
      {
        en: 'Doctors stress that prevention costs far less than treatment.',
        ar: '{w}يؤكد الأطباء أن الوقاية أقل كلفة بكثير من العلاج.',
      },
      {
        en: 'Small daily habits add up to large changes over time.',
        ar: '{w}تتراكم العادات اليومية الصغيرة لتُحدث تغييرات كبيرة مع مرور الوقت.',
      },
      {
        en: 'Access to care is still uneven between cities and rural areas.',
        ar: '{w}لا يزال الوصول إلى الرعاية متفاوتًا بين المدن والمناطق الريفية.',
      },
      {
        en: 'Clear information helps patients make better decisions.',
        ar: '{w}تساعد المعلومات الواضحة المرضى على اتخاذ قرارات أفضل.',
      },
      {
        en: 'Nurses and community health workers play a central role.',
        ar: '{w}يؤدي الممرضون والعاملون في صحة المجتمع دورًا محوريًا.',
      },
      {
        en: 'Any change in diet or medication should be discussed with a doctor.',
        ar: '{w}ينبغي مناقشة أي تغيير في النظام الغذائي أو الدواء مع الطبيب.',
      },
      {
        en: 'Research in the region is growing, but long-term studies are still rare.',
        ar: '{w}تتزايد الأبحاث في المنطقة، غير أن الدراسات طويلة المدى لا تزال نادرة.',
      },
      {
        en: 'Workplaces can support health through simple measures.',
        ar: '{w}يمكن لبيئات العمل أن تدعم الصحة بإجراءات بسيطة.',
      },
    ],
  },
  {
    slug: 'culture',
    names: { en: 'Culture', ar: 'الثقافة' },
    descriptions: {
      en: 'Books, arts, heritage and the institutions that keep them alive.',
      ar: 'الكتب والفنون والتراث والمؤسسات التي تحفظها.',
    },
    subcategories: [],
    subjects: [
      { en: 'Arabic calligraphy', ar: 'الخط العربي', tags: ['arts', 'calligraphy'] },
      { en: 'the contemporary Arabic novel', ar: 'الرواية العربية المعاصرة', tags: ['literature'] },
      { en: 'independent cinema', ar: 'السينما المستقلة', tags: ['film'] },
      { en: 'museums', ar: 'المتاحف', tags: ['museums', 'heritage'] },
      { en: 'traditional music', ar: 'الموسيقى التقليدية', tags: ['music', 'heritage'] },
      { en: 'book fairs', ar: 'معارض الكتاب', tags: ['books', 'literature'] },
      { en: 'literary translation', ar: 'الترجمة الأدبية', tags: ['translation', 'literature'] },
      { en: 'intangible heritage', ar: 'التراث غير المادي', tags: ['heritage'] },
      { en: "children's literature", ar: 'أدب الأطفال', tags: ['literature', 'children'] },
      { en: 'street art', ar: 'فنون الشارع', tags: ['arts'] },
    ],
    sentences: [
      {
        en: 'Young audiences are discovering old forms through new platforms.',
        ar: '{w}يكتشف الجمهور الشاب أشكالًا قديمة عبر منصات جديدة.',
      },
      {
        en: 'Public funding for the arts remains limited in many countries.',
        ar: '{w}لا يزال التمويل العام للفنون محدودًا في كثير من البلدان.',
      },
      {
        en: 'Festivals bring artists and audiences together across borders.',
        ar: '{w}تجمع المهرجانات الفنانين والجمهور عبر الحدود.',
      },
      {
        en: 'Digitising archives protects works that could otherwise be lost.',
        ar: '{w}تحمي رقمنة الأرشيفات أعمالًا كان يمكن أن تضيع.',
      },
      {
        en: 'Translation opens Arabic works to readers around the world.',
        ar: '{w}تفتح الترجمة الأعمال العربية أمام القراء في أنحاء العالم.',
      },
      {
        en: 'Critics note a renewed interest in local stories.',
        ar: '{w}يلاحظ النقاد اهتمامًا متجددًا بالحكايات المحلية.',
      },
      {
        en: 'Schools have a part to play in building the habit of reading.',
        ar: '{w}للمدارس دور في ترسيخ عادة القراءة.',
      },
      {
        en: 'Cultural institutions are trying longer opening hours and free entry days.',
        ar: '{w}تجرّب المؤسسات الثقافية تمديد ساعات العمل وتخصيص أيام للدخول المجاني.',
      },
    ],
  },
  {
    slug: 'environment',
    names: { en: 'Environment', ar: 'البيئة' },
    descriptions: {
      en: 'Climate, water, energy and the places we live in.',
      ar: 'المناخ والمياه والطاقة والأماكن التي نعيش فيها.',
    },
    subcategories: [],
    subjects: [
      { en: 'solar energy', ar: 'الطاقة الشمسية', tags: ['energy', 'solar'] },
      { en: 'water scarcity', ar: 'شح المياه', tags: ['water'] },
      { en: 'recycling', ar: 'إعادة التدوير', tags: ['recycling', 'waste'] },
      { en: 'air quality', ar: 'جودة الهواء', tags: ['air', 'pollution'] },
      { en: 'desertification', ar: 'التصحر', tags: ['desertification', 'land'] },
      { en: 'biodiversity', ar: 'التنوع البيولوجي', tags: ['biodiversity'] },
      { en: 'urban heat islands', ar: 'الجزر الحرارية الحضرية', tags: ['climate', 'cities'] },
      { en: 'electric mobility', ar: 'التنقل الكهربائي', tags: ['transport', 'ev'] },
      { en: 'seawater desalination', ar: 'تحلية مياه البحر', tags: ['water', 'energy'] },
      { en: 'food waste', ar: 'هدر الطعام', tags: ['food', 'waste'] },
    ],
    sentences: [
      {
        en: 'Heatwaves are becoming more frequent in the region.',
        ar: '{w}تتزايد موجات الحر الشديد في المنطقة.',
      },
      {
        en: 'Municipalities are testing new approaches at neighbourhood level.',
        ar: '{w}تختبر البلديات أساليب جديدة على مستوى الأحياء.',
      },
      {
        en: 'Individual choices matter, but policy sets the direction.',
        ar: '{w}للخيارات الفردية أهميتها، لكن السياسات هي التي تحدد الاتجاه.',
      },
      {
        en: 'Monitoring data are now published more often and in more detail.',
        ar: '{w}باتت بيانات الرصد تُنشر بوتيرة أعلى وبتفاصيل أكثر.',
      },
      {
        en: 'Farmers are among the first to feel the effects of climate change.',
        ar: '{w}يُعد المزارعون من أوائل من يشعرون بآثار تغير المناخ.',
      },
      {
        en: 'Green jobs are growing in energy, construction and transport.',
        ar: '{w}تنمو الوظائف الخضراء في قطاعات الطاقة والبناء والنقل.',
      },
      {
        en: 'Cooperation between neighbouring countries is essential for shared resources.',
        ar: '{w}التعاون بين الدول المتجاورة ضروري لإدارة الموارد المشتركة.',
      },
      {
        en: 'Long-term targets need short-term milestones to be credible.',
        ar: '{w}تحتاج الأهداف بعيدة المدى إلى محطات قصيرة المدى كي تكون ذات مصداقية.',
      },
    ],
  },
  {
    slug: 'education',
    names: { en: 'Education', ar: 'التعليم' },
    descriptions: {
      en: 'Schools, universities and learning at every age.',
      ar: 'المدارس والجامعات والتعلم في كل الأعمار.',
    },
    subcategories: [],
    subjects: [
      { en: 'distance learning', ar: 'التعلم عن بعد', tags: ['e-learning'] },
      {
        en: 'early childhood education',
        ar: 'التعليم في مرحلة الطفولة المبكرة',
        tags: ['early-childhood'],
      },
      { en: 'vocational training', ar: 'التدريب المهني', tags: ['vocational', 'skills'] },
      { en: 'teaching Arabic', ar: 'تعليم اللغة العربية', tags: ['arabic', 'languages'] },
      { en: 'coding in schools', ar: 'تعليم البرمجة في المدارس', tags: ['coding', 'schools'] },
      { en: 'university admissions', ar: 'القبول الجامعي', tags: ['universities'] },
      { en: 'school libraries', ar: 'المكتبات المدرسية', tags: ['libraries', 'reading'] },
      { en: 'student wellbeing', ar: 'رفاه الطلاب', tags: ['wellbeing', 'students'] },
      { en: 'lifelong learning', ar: 'التعلم مدى الحياة', tags: ['skills'] },
      { en: 'assessment and exams', ar: 'التقييم والامتحانات', tags: ['assessment'] },
    ],
    sentences: [
      {
        en: 'Teachers remain the most important factor in learning.',
        ar: '{w}يبقى المعلم العامل الأهم في عملية التعلم.',
      },
      {
        en: 'Schools are rethinking how they use screens in the classroom.',
        ar: '{w}تعيد المدارس النظر في طريقة استخدام الشاشات داخل الفصول.',
      },
      {
        en: 'Parents want clearer information about what their children learn.',
        ar: '{w}يريد أولياء الأمور معلومات أوضح عما يتعلمه أبناؤهم.',
      },
      {
        en: 'Reading for pleasure is linked to better results in every subject.',
        ar: '{w}ترتبط القراءة من أجل المتعة بنتائج أفضل في جميع المواد.',
      },
      {
        en: 'Universities are working more closely with employers.',
        ar: '{w}تعمل الجامعات بشكل أوثق مع جهات التوظيف.',
      },
      {
        en: 'The gap between urban and rural schools has narrowed but not closed.',
        ar: '{w}ضاقت الفجوة بين المدارس الحضرية والريفية لكنها لم تُغلق بعد.',
      },
      {
        en: 'Short, frequent feedback helps students more than a single final exam.',
        ar: '{w}تفيد الملاحظات القصيرة والمتكررة الطلاب أكثر من امتحان نهائي واحد.',
      },
      {
        en: 'Training teachers takes time, and the results appear gradually.',
        ar: '{w}يحتاج تدريب المعلمين إلى وقت، وتظهر نتائجه تدريجيًا.',
      },
    ],
  },
  {
    slug: 'sports',
    names: { en: 'Sports', ar: 'الرياضة' },
    descriptions: {
      en: 'Competitions, clubs, athletes and sport for everyone.',
      ar: 'المنافسات والأندية والرياضيون والرياضة للجميع.',
    },
    subcategories: [],
    subjects: [
      { en: "women's football", ar: 'كرة القدم النسائية', tags: ['football', 'women'] },
      { en: 'marathon running', ar: 'سباقات الماراثون', tags: ['running'] },
      { en: 'school sport', ar: 'الرياضة المدرسية', tags: ['schools', 'youth'] },
      { en: 'sports science', ar: 'علوم الرياضة', tags: ['science'] },
      { en: 'esports', ar: 'الرياضات الإلكترونية', tags: ['esports'] },
      { en: 'Paralympic sport', ar: 'الرياضات البارالمبية', tags: ['paralympics'] },
      { en: 'youth academies', ar: 'أكاديميات الناشئين', tags: ['youth', 'football'] },
      { en: 'cycling', ar: 'رياضة الدراجات الهوائية', tags: ['cycling'] },
      { en: 'sports injuries', ar: 'الإصابات الرياضية', tags: ['injuries', 'health'] },
      {
        en: 'hosting major tournaments',
        ar: 'استضافة البطولات الكبرى',
        tags: ['events', 'tournaments'],
      },
    ],
    sentences: [
      {
        en: 'Participation is growing fastest among young women.',
        ar: '{w}تنمو المشاركة بأسرع وتيرة بين الشابات.',
      },
      {
        en: 'Clubs are investing in data analysis to improve performance.',
        ar: '{w}تستثمر الأندية في تحليل البيانات لتحسين الأداء.',
      },
      {
        en: 'Good coaching matters more than expensive equipment.',
        ar: '{w}التدريب الجيد أهم من المعدات باهظة الثمن.',
      },
      {
        en: 'Public facilities are still crowded at peak hours.',
        ar: '{w}لا تزال المرافق العامة مزدحمة في أوقات الذروة.',
      },
      {
        en: 'Broadcasting rights now shape the calendar of many competitions.',
        ar: '{w}باتت حقوق البث تحدد جدول كثير من المنافسات.',
      },
      {
        en: 'Rest and recovery are part of training, not a break from it.',
        ar: '{w}الراحة والاستشفاء جزء من التدريب وليسا انقطاعًا عنه.',
      },
      {
        en: 'Local leagues are where most athletes begin their careers.',
        ar: '{w}من الدوريات المحلية يبدأ معظم الرياضيين مسيرتهم.',
      },
      {
        en: 'Fans increasingly follow matches on their phones.',
        ar: '{w}يتابع المشجعون المباريات بشكل متزايد عبر هواتفهم.',
      },
    ],
  },
  {
    slug: 'travel',
    names: { en: 'Travel', ar: 'السفر' },
    descriptions: {
      en: 'Destinations, journeys and travelling well.',
      ar: 'الوجهات والرحلات وفن السفر.',
    },
    subcategories: [],
    subjects: [
      { en: 'sustainable tourism', ar: 'السياحة المستدامة', tags: ['tourism', 'sustainability'] },
      { en: 'heritage sites', ar: 'المواقع التراثية', tags: ['heritage'] },
      { en: 'desert tourism', ar: 'السياحة الصحراوية', tags: ['desert', 'tourism'] },
      { en: 'rail travel', ar: 'السفر بالقطار', tags: ['rail', 'transport'] },
      { en: 'travelling with children', ar: 'السفر مع الأطفال', tags: ['family'] },
      { en: 'low-cost flights', ar: 'رحلات الطيران منخفضة التكلفة', tags: ['flights'] },
      { en: 'food tourism', ar: 'سياحة الطعام', tags: ['food', 'tourism'] },
      { en: 'short breaks', ar: 'العطلات القصيرة', tags: ['short-breaks'] },
      { en: 'electronic visas', ar: 'التأشيرات الإلكترونية', tags: ['visas'] },
      {
        en: 'ecotourism in nature reserves',
        ar: 'السياحة البيئية في المحميات الطبيعية',
        tags: ['nature', 'ecotourism'],
      },
    ],
    sentences: [
      {
        en: 'Travellers are booking later and staying for shorter periods.',
        ar: '{w}يحجز المسافرون في وقت متأخر ويقيمون لفترات أقصر.',
      },
      {
        en: 'Local guides offer a depth of knowledge that no app can replace.',
        ar: '{w}يقدم المرشدون المحليون معرفة عميقة لا يمكن لأي تطبيق أن يحل محلها.',
      },
      {
        en: 'Visiting outside the high season means fewer crowds and lower prices.',
        ar: '{w}الزيارة خارج موسم الذروة تعني ازدحامًا أقل وأسعارًا أدنى.',
      },
      {
        en: 'Respect for local customs makes every trip richer.',
        ar: '{w}احترام العادات المحلية يجعل كل رحلة أكثر ثراءً.',
      },
      {
        en: 'Small towns are investing in hospitality to attract visitors.',
        ar: '{w}تستثمر البلدات الصغيرة في الضيافة لجذب الزوار.',
      },
      {
        en: 'Clear information about transport makes independent travel easier.',
        ar: '{w}تجعل المعلومات الواضحة عن وسائل النقل السفر المستقل أسهل.',
      },
      {
        en: 'Tourism income supports crafts and family businesses.',
        ar: '{w}تدعم عائدات السياحة الحرف اليدوية والمشروعات العائلية.',
      },
      {
        en: 'Planning ahead helps travellers avoid unnecessary costs.',
        ar: '{w}يساعد التخطيط المسبق المسافرين على تجنب التكاليف غير الضرورية.',
      },
    ],
  },
];
