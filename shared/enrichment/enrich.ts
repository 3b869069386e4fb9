import type { Enrichment, EnrichmentTask } from '../ai/schema.ts';
import type { Services } from '../services.ts';
import type { Lang } from '../text/analyze.ts';

/** What is enriched, for the record (costs, events). */
export type EnrichmentSubject = { type: 'document' | 'content'; id: string };

export type EnrichRequest = {
  orgId: string;
  subject: EnrichmentSubject;
  text: string;
  /** The text's language when known; detected otherwise. */
  locale?: Lang;
  /** The organisation's category names to choose from. */
  categories?: readonly string[];
  /** Default every task. */
  tasks?: readonly EnrichmentTask[];
};

/**
 * Enriches a text for an organisation: the one entry point the document pipeline and content
 * enrichment call. Never throws for the model's sake: the provider answers with the extractive
 * engine when the model fails.
 */
export async function enrichText(
  services: Pick<Services, 'ai'>,
  request: EnrichRequest,
): Promise<Enrichment> {
  return services.ai.enrich(request.text, {
    ...(request.tasks ? { tasks: request.tasks } : {}),
    ...(request.locale ? { locale: request.locale } : {}),
    ...(request.categories ? { categories: request.categories } : {}),
  });
}
