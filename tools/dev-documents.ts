import pg from 'pg';
import { SAMPLE_DOCUMENTS } from './db/sample-data/documents.ts';
import { SAMPLE_ORG } from './db/sample-data/people.ts';
import { signIn } from './dev-index.ts';
import { fixtureOf } from './documents/fixtures.ts';

/** The statuses processing ends in. */
const FINAL = new Set(['ready', 'failed', 'needs_ocr']);

export type DocumentsOutcome = {
  /** Uploaded now; the others were there already (the same bytes: a `409`). */
  uploaded: number;
  /** By final status (`ready`, `failed`, `needs_ocr`), over every sample document. */
  statuses: Record<string, number>;
  seconds: number;
};

/**
 * The sample documents under `npm run dev`: uploaded through the API as the sample owner, as a
 * user would (the pipeline extracts, chunks, embeds and enriches them like any upload), unless
 * they are there already (a restart on kept data: the upload answers `409` with the document's
 * id; one whose original is gone, the database kept but the file store cleared, is deleted and
 * uploaded again, and so is one of a sample's name whose bytes have changed since); then it waits
 * until each has finished processing.
 */
export async function ensureSampleDocuments(options: {
  /** The Worker, e.g. `http://127.0.0.1:8787`. */
  base: string;
  /** A plain Postgres URL of the database (PGlite's wire port, or the server). */
  databaseUrl: string;
  timeoutMs?: number;
}): Promise<DocumentsOutcome> {
  const started = Date.now();
  const auth = await signIn(options.base);
  const categories = await sampleCategories(options.databaseUrl);
  const files = await Promise.all(
    SAMPLE_DOCUMENTS.map((sample) => fixtureOf(sample.type, sample.article)),
  );
  await removeStaleSamples(options.base, auth, files);
  let uploaded = 0;
  const ids: string[] = [];
  for (const [i, sample] of SAMPLE_DOCUMENTS.entries()) {
    const query = new URLSearchParams({
      file_name: sample.fileName,
      title: sample.article.title,
      locale: sample.locale,
      tags: sample.tags.join(','),
      visibility: sample.visibility,
    });
    const category = categories.get(sample.category);
    if (category) query.set('category_id', category);
    const file = files[i]!;
    const upload = async () => {
      const response = await fetch(`${options.base}/v1/documents?${query}`, {
        method: 'POST',
        headers: { ...auth, 'Content-Type': 'application/octet-stream' },
        body: file,
      });
      return {
        status: response.status,
        body: (await response.json()) as { id?: string; document_id?: string | null },
      };
    };
    let { status, body } = await upload();
    if (status === 409 && body.document_id) {
      // There already; unless the database was kept and the file store cleared (its original
      // is gone): then it goes, and is uploaded again.
      const original = await fetch(`${options.base}/v1/documents/${body.document_id}/original`, {
        headers: auth,
      });
      await original.body?.cancel();
      if (original.ok) {
        ids.push(body.document_id);
        continue;
      }
      await fetch(`${options.base}/v1/documents/${body.document_id}`, {
        method: 'DELETE',
        headers: auth,
      });
      ({ status, body } = await upload());
    }
    if (status !== 201 || !body.id) {
      throw new Error(
        `the sample document ${sample.fileName} was refused: ${status} ${JSON.stringify(body)}`,
      );
    }
    uploaded++;
    ids.push(body.id);
  }
  const deadline = started + (options.timeoutMs ?? 300_000);
  const statuses: Record<string, number> = {};
  for (const id of ids) {
    for (;;) {
      const response = await fetch(`${options.base}/v1/documents/${id}`, { headers: auth });
      const { status } = (await response.json()) as { status?: string };
      if (status && FINAL.has(status)) {
        statuses[status] = (statuses[status] ?? 0) + 1;
        break;
      }
      if (Date.now() > deadline) throw new Error(`the sample document ${id} is still ${status}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  return { uploaded, statuses, seconds: (Date.now() - started) / 1000 };
}

/**
 * Deletes the organisation's documents that bear a sample's file name but not its bytes: the
 * samples of an earlier version of this file, kept in the database. The samples are then exactly
 * those of {@link SAMPLE_DOCUMENTS}.
 */
async function removeStaleSamples(
  base: string,
  auth: Record<string, string>,
  files: readonly Uint8Array[],
): Promise<void> {
  const current = new Map<string, string>();
  for (const [i, sample] of SAMPLE_DOCUMENTS.entries()) {
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', files[i]!));
    current.set(sample.fileName, Buffer.from(digest).toString('hex'));
  }
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ limit: '100', ...(cursor ? { cursor } : {}) });
    const response = await fetch(`${base}/v1/documents?${query}`, { headers: auth });
    const page = (await response.json()) as {
      items: { id: string; file_name: string; sha256: string }[];
      next_cursor: string | null;
    };
    for (const doc of page.items) {
      const sha = current.get(doc.file_name);
      if (sha !== undefined && sha !== doc.sha256) {
        await fetch(`${base}/v1/documents/${doc.id}`, { method: 'DELETE', headers: auth });
      }
    }
    cursor = page.next_cursor;
  } while (cursor);
}

/** The sample organisation's categories: slug → id. */
async function sampleCategories(databaseUrl: string): Promise<Map<string, string>> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ slug: string; id: string }>(
      `select c.slug, c.id from categories c
         join organizations o on o.id = c.org_id and o.slug = $1
        where c.deleted_at is null`,
      [SAMPLE_ORG.slug],
    );
    return new Map(rows.map((r) => [r.slug, r.id]));
  } finally {
    await client.end();
  }
}
