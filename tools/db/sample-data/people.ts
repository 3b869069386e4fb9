import type { MembershipRole, SynonymKind } from '../../../shared/db/schema/index.ts';

/** The sample organisation. */
export const SAMPLE_ORG = {
  slug: 'sift-demo',
  name: 'Sift Demo Newsroom',
  defaultLocale: 'ar',
  locales: ['ar', 'en'],
};

export type SampleUser = {
  email: string;
  name: string;
  locale: string;
  /** Null: no membership (the platform's super admin). */
  role: MembershipRole | null;
  isSuperAdmin?: boolean;
};

/** At least one member in every role; authors and editors write and review the content. */
/** The development password of every sample user (README: "Set-up"). Never use it elsewhere. */
export const SAMPLE_PASSWORD = 'sift demo password';

export const SAMPLE_USERS: SampleUser[] = [
  {
    email: 'huda.almansouri@sift-demo.example',
    name: 'Huda Al-Mansouri',
    locale: 'ar',
    role: 'owner',
  },
  { email: 'omar.haddad@sift-demo.example', name: 'Omar Haddad', locale: 'ar', role: 'admin' },
  { email: 'layla.nasser@sift-demo.example', name: 'Layla Nasser', locale: 'ar', role: 'editor' },
  { email: 'daniel.brooks@sift-demo.example', name: 'Daniel Brooks', locale: 'en', role: 'editor' },
  { email: 'karim.aziz@sift-demo.example', name: 'Karim Aziz', locale: 'ar', role: 'author' },
  { email: 'sara.khalil@sift-demo.example', name: 'Sara Khalil', locale: 'ar', role: 'author' },
  { email: 'emma.clarke@sift-demo.example', name: 'Emma Clarke', locale: 'en', role: 'author' },
  { email: 'yousef.rahman@sift-demo.example', name: 'Yousef Rahman', locale: 'ar', role: 'viewer' },
  {
    email: 'platform@sift.example',
    name: 'Sift Platform Admin',
    locale: 'en',
    // A membership gives the super admin an organisation to sign in to; the flag does the rest.
    role: 'viewer',
    isSuperAdmin: true,
  },
];

export type SampleSynonym = {
  locale: string;
  kind: SynonymKind;
  root: string | null;
  terms: string[];
};

/** Synonym sets that match the sample content, in both languages. */
export const SAMPLE_SYNONYMS: SampleSynonym[] = [
  { locale: 'en', kind: 'one_way', root: 'ai', terms: ['artificial intelligence'] },
  { locale: 'en', kind: 'one_way', root: '5g', terms: ['fifth-generation networks'] },
  { locale: 'en', kind: 'one_way', root: 'sme', terms: ['small and medium enterprises'] },
  {
    locale: 'en',
    kind: 'multi_way',
    root: null,
    terms: ['e-commerce', 'online shopping', 'online retail'],
  },
  {
    locale: 'en',
    kind: 'multi_way',
    root: null,
    terms: ['distance learning', 'online learning', 'e-learning'],
  },
  { locale: 'en', kind: 'multi_way', root: null, terms: ['solar energy', 'solar power'] },
  { locale: 'ar', kind: 'multi_way', root: null, terms: ['الذكاء الاصطناعي', 'الذكاء الصناعي'] },
  {
    locale: 'ar',
    kind: 'multi_way',
    root: null,
    terms: ['التعلم عن بعد', 'التعليم عن بعد', 'التعليم الإلكتروني'],
  },
  {
    locale: 'ar',
    kind: 'multi_way',
    root: null,
    terms: ['التجارة الإلكترونية', 'التسوق عبر الإنترنت'],
  },
  { locale: 'ar', kind: 'multi_way', root: null, terms: ['السكري', 'داء السكري', 'مرض السكري'] },
  { locale: 'ar', kind: 'one_way', root: 'الجيل الخامس', terms: ['شبكات الجيل الخامس'] },
  { locale: 'ar', kind: 'multi_way', root: null, terms: ['الحاسوب', 'الكمبيوتر', 'الحاسب الآلي'] },
  {
    locale: 'ar',
    kind: 'one_way',
    root: 'الطاقة النظيفة',
    terms: ['الطاقة الشمسية', 'الطاقة المتجددة'],
  },
];
