import type { Lang } from '../text/analyze.ts';
import { DOCUMENT_TYPES } from './extractive/classify.ts';
import { ENRICHMENT_TASKS, type EnrichmentTask } from './schema.ts';

/** Recorded with every result; change it whenever the instructions below change. */
export const PROMPT_VERSION = 'enrich-v1';

export type PromptInput = {
  text: string;
  tasks: readonly EnrichmentTask[];
  locale: Lang | undefined;
  categories: readonly string[];
  /** `YYYY-MM-DD`. */
  referenceDate: string;
};

export type ChatMessage = { role: 'system' | 'user'; content: string };

const SYSTEM = `You analyse business documents written in Arabic or English and answer with JSON only, following the given schema.
Write every answer in the document's own language.
- summaries: short (1-2 sentences), medium (about 5 sentences), detailed (about 10 sentences); stay faithful to the document.
- action_items: each task someone is asked or committed to do. text: the sentence that states it, copied exactly from the document. owner: the person, role or party who is to do it, as written, or null. due_date: YYYY-MM-DD, resolving relative dates ("by Friday", "بحلول الخميس") against the reference date, or null.
- risks: each risk, threat, delay or exposure the document states. text: a one-line description. severity: high, medium or low from the document's wording. passage: the sentence it comes from, copied exactly.
- tags: up to 8 short keyphrases from the document.
- category: one of the given categories, exactly as written, or null when none fits or none is given.
- document_type: one of ${DOCUMENT_TYPES.join(', ')}.
Answer an empty list or null for what the document does not contain; never invent.`;

const OPEN = '<document>';
const CLOSE = '</document>';

/**
 * The chat messages of an enrichment: fixed instructions, then a user message with the reference
 * date, the language, the categories, the tasks and the document between `<document>` tags.
 * The local cloud reads the same message back ({@link parsePrompt}).
 */
export function buildMessages(input: PromptInput): ChatMessage[] {
  const lines = [
    `Reference date: ${input.referenceDate}`,
    `Language: ${input.locale ?? 'detect'}`,
    `Categories: ${input.categories.length > 0 ? JSON.stringify(input.categories) : 'none'}`,
    `Tasks: ${input.tasks.join(', ')}`,
    OPEN,
    // A document that writes the closing tag itself cannot end the block early.
    input.text.replaceAll(CLOSE, '</ document>'),
    CLOSE,
  ];
  return [
    { role: 'system', content: SYSTEM },
    { role: 'user', content: lines.join('\n') },
  ];
}

/**
 * The enrichment request a user message carries (see {@link buildMessages}); a message without
 * the document tags is taken as the whole document, with today as reference date.
 */
export function parsePrompt(content: string): PromptInput {
  const open = content.indexOf(OPEN);
  const close = content.lastIndexOf(CLOSE);
  if (open < 0 || close < open) {
    return {
      text: content,
      tasks: ENRICHMENT_TASKS,
      locale: undefined,
      categories: [],
      referenceDate: new Date().toISOString().slice(0, 10),
    };
  }
  const header = content.slice(0, open);
  const field = (name: string) => new RegExp(`^${name}: (.*)$`, 'mu').exec(header)?.[1]?.trim();
  const date = field('Reference date');
  const language = field('Language');
  let categories: string[] = [];
  try {
    const raw = field('Categories');
    const parsed: unknown = raw && raw !== 'none' ? JSON.parse(raw) : [];
    if (Array.isArray(parsed)) categories = parsed.filter((c) => typeof c === 'string');
  } catch {
    categories = [];
  }
  const tasks = (field('Tasks') ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter((t): t is EnrichmentTask => (ENRICHMENT_TASKS as readonly string[]).includes(t));
  return {
    text: content
      .slice(open + OPEN.length, close)
      .replace(/^\n/u, '')
      .replace(/\n$/u, ''),
    tasks: tasks.length > 0 ? tasks : ENRICHMENT_TASKS,
    locale: language === 'ar' || language === 'en' ? language : undefined,
    categories,
    referenceDate:
      date && /^\d{4}-\d{2}-\d{2}$/u.test(date) ? date : new Date().toISOString().slice(0, 10),
  };
}
