import { describe, expect, it } from 'vitest';
import {
  classifyQuery,
  INFORMATIONAL_MARKERS,
  MAX_NAVIGATIONAL_TERMS,
  NAVIGATIONAL_MARKERS,
  QUESTION_OPENERS,
  TRANSACTIONAL_MARKERS,
} from '../../../../shared/text/query-class.ts';

describe('classifyQuery', () => {
  it.each([
    'buy iphone 15',
    'iPhone 15 price',
    'cheapest flights to dubai',
    'download vlc',
    'subscribe to the newsletter',
    'book a table tonight',
    'hotel booking riyadh',
    'laptop prices',
    'order pizza online',
    'how much does a macbook cost',
    'how to download whatsapp',
  ])('classifies the English %j as transactional', (query) => {
    expect(classifyQuery(query, 'en')).toBe('transactional');
  });

  it.each([
    'شراء سيارة مستعملة',
    'سعر الذهب اليوم',
    'أسعار الشقق في جدة',
    'بكم الايفون',
    'تحميل واتساب',
    'حجز فندق في مكة',
    'اشتراك نتفليكس',
    'كيف أحمل التطبيق تحميل',
    'تحميل WhatsApp',
  ])('classifies the Arabic %j as transactional', (query) => {
    expect(classifyQuery(query, 'ar')).toBe('transactional');
  });

  it.each([
    'how to cook rice',
    'what is machine learning',
    'why is the sky blue',
    'best laptops for students',
    'python vs javascript',
    'beginner guide to investing',
    'is coffee bad for you',
    'climate change effects on coastal cities',
    'history of the roman empire in europe',
    'weather tomorrow?',
  ])('classifies the English %j as informational', (query) => {
    expect(classifyQuery(query, 'en')).toBe('informational');
  });

  it.each([
    'كيف أتعلم البرمجة',
    'ما هو الذكاء الاصطناعي',
    'ما هي عاصمة أستراليا',
    'لماذا السماء زرقاء',
    'أفضل هاتف 2024',
    'دليل السفر إلى تركيا',
    'هل القهوة مفيدة',
    'الفرق بين الفيروس والبكتيريا',
    'متى يبدأ رمضان',
    'الطقس غدا؟',
    'تاريخ الدولة العثمانية في الشرق الأوسط',
  ])('classifies the Arabic %j as informational', (query) => {
    expect(classifyQuery(query, 'ar')).toBe('informational');
  });

  it.each([
    'facebook',
    'gmail login',
    'youtube.com',
    'bbc news',
    'the new york times',
    'this is us',
    'sift docs',
    'bank of america online banking sign in',
  ])('classifies the English %j as navigational', (query) => {
    expect(classifyQuery(query, 'en')).toBe('navigational');
  });

  it.each([
    'جامعة الملك سعود',
    'بنك الراجحي',
    'تسجيل الدخول إلى حساب أبشر عبر الجوال',
    'وزارة الصحة الموقع الرسمي للمواعيد الطبية',
    'الجزيرة',
  ])('classifies the Arabic %j as navigational', (query) => {
    expect(classifyQuery(query, 'ar')).toBe('navigational');
  });

  it('lets intent beat a question, and a question beat a site name', () => {
    expect(classifyQuery('what is the price of gold')).toBe('transactional');
    expect(classifyQuery('how to login to gmail')).toBe('informational');
    expect(classifyQuery('ما هو سعر الذهب')).toBe('transactional');
  });

  it('matches markers in inflected and normalised forms', () => {
    expect(classifyQuery('downloading maps')).toBe('transactional');
    expect(classifyQuery('والأسعار')).toBe('transactional');
    expect(classifyQuery('GUIDES')).toBe('informational');
    expect(classifyQuery('أفضـــلُ')).toBe('informational');
  });

  it('counts question openers only at the start', () => {
    expect(classifyQuery('can i freeze bread')).toBe('informational');
    expect(classifyQuery('yes we can')).toBe('navigational');
  });

  it('needs all the words of a phrase marker, in order', () => {
    expect(classifyQuery('free trial')).toBe('transactional');
    expect(classifyQuery('free')).toBe('navigational');
    expect(classifyQuery('trial free')).toBe('navigational');
    expect(classifyQuery('من هو')).toBe('informational');
    expect(classifyQuery('هو من')).toBe('navigational');
  });

  it(`calls a query of more than ${MAX_NAVIGATIONAL_TERMS} content words informational`, () => {
    expect(classifyQuery('solar panel roof tiles')).toBe('informational');
    expect(classifyQuery('solar panel roof')).toBe('navigational');
    expect(classifyQuery('the solar panel of the roof')).toBe('navigational');
  });

  it('calls an empty query navigational', () => {
    expect(classifyQuery('')).toBe('navigational');
    expect(classifyQuery('  ')).toBe('navigational');
  });

  it('does not depend on the language passed', () => {
    for (const query of ['تحميل WhatsApp', 'best مطاعم', 'gmail login']) {
      expect(classifyQuery(query, 'ar')).toBe(classifyQuery(query, 'en'));
      expect(classifyQuery(query)).toBe(classifyQuery(query, 'en'));
    }
  });

  it('exports non-empty marker lists for both languages', () => {
    for (const lists of [
      TRANSACTIONAL_MARKERS,
      INFORMATIONAL_MARKERS,
      NAVIGATIONAL_MARKERS,
      QUESTION_OPENERS,
    ]) {
      expect(lists.en.length).toBeGreaterThan(0);
      expect(lists.ar.length).toBeGreaterThan(0);
    }
  });
});
