import pg from 'pg';
import { SAMPLE_ORG, SAMPLE_PASSWORD, SAMPLE_USERS } from './db/sample-data/people.ts';

/**
 * The sample organisation's search index under `npm run dev`. The seed writes straight into
 * Postgres, and only the Worker indexes (its consumers compute the vectors through Workers AI),
 * so after the seed the organisation's index may be empty: a first search would find nothing.
 * Before `npm run dev` says it is ready it therefore asks the running Worker, as the sample
 * owner would: a keyword search for the title of a published sample item. If that finds
 * anything, the index was built (a restart on kept data); if not, it starts the organisation's re-index
 * (`POST /v1/search/reindex`) and waits for its operation to be applied.
 */
export type IndexOutcome = { published: number; rebuilt: boolean; seconds: number };

export async function ensureSampleIndexed(options: {
  /** The Worker, e.g. `http://127.0.0.1:8787`. */
  base: string;
  /** A plain Postgres URL of the database (PGlite's wire port, or the server). */
  databaseUrl: string;
  timeoutMs?: number;
}): Promise<IndexOutcome> {
  const started = Date.now();
  const { published, title } = await publishedSample(options.databaseUrl);
  if (published === 0) return { published, rebuilt: false, seconds: 0 };
  const auth = await signIn(options.base);
  if (await findable(options.base, auth, title!)) {
    return { published, rebuilt: false, seconds: (Date.now() - started) / 1000 };
  }
  const response = await fetch(`${options.base}/v1/search/reindex`, {
    method: 'POST',
    headers: auth,
  });
  const body = (await response.json()) as { operation?: { url: string }; operation_id?: string };
  // 409: a rebuild is running already (a restart during one): wait for that one.
  const url =
    response.status === 202
      ? body.operation?.url
      : response.status === 409 && body.operation_id
        ? `/v1/operations/${body.operation_id}`
        : undefined;
  if (!url) throw new Error(`the re-index was refused: ${response.status} ${JSON.stringify(body)}`);
  const deadline = started + (options.timeoutMs ?? 300_000);
  for (;;) {
    const operation = (await (await fetch(`${options.base}${url}`, { headers: auth })).json()) as {
      status: string;
      error: unknown;
    };
    if (operation.status === 'applied') break;
    if (operation.status === 'failed') {
      throw new Error(`the re-index failed: ${JSON.stringify(operation.error)}`);
    }
    if (Date.now() > deadline) throw new Error('the re-index did not finish in time');
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return { published, rebuilt: true, seconds: (Date.now() - started) / 1000 };
}

/** How many sample items are published, and the English title of one of them. */
async function publishedSample(
  databaseUrl: string,
): Promise<{ published: number; title?: string }> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ published: number; title: string | null }>(
      `select count(distinct c.id)::int as published,
              min(t.title) filter (where t.locale = 'en') as title
         from content c
         join organizations o on o.id = c.org_id and o.slug = $1
         join content_translations t on t.content_id = c.id and t.deleted_at is null
        where c.status = 'published' and c.deleted_at is null`,
      [SAMPLE_ORG.slug],
    );
    return { published: rows[0]?.published ?? 0, title: rows[0]?.title ?? undefined };
  } finally {
    await client.end();
  }
}

/** The sample owner's bearer token, as a header. */
export async function signIn(base: string): Promise<Record<string, string>> {
  const owner = SAMPLE_USERS.find((user) => user.role === 'owner')!;
  const response = await fetch(`${base}/v1/auth/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: owner.email, password: SAMPLE_PASSWORD }),
  });
  const body = (await response.json()) as { access_token?: string };
  if (!body.access_token) {
    throw new Error(
      `the sample owner could not sign in: ${response.status} ${JSON.stringify(body)}`,
    );
  }
  return { Authorization: `Bearer ${body.access_token}` };
}

/** Whether a keyword search for `title` finds anything: the index was built. */
async function findable(base: string, auth: Record<string, string>, title: string) {
  const query = new URLSearchParams({ q: title, mode: 'keyword', locale: 'en', limit: '1' });
  const response = await fetch(`${base}/v1/search?${query}`, { headers: auth });
  if (!response.ok) return false;
  return (((await response.json()) as { total?: number }).total ?? 0) > 0;
}
