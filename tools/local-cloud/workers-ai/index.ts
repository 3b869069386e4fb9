import { listen, type RunningService } from '../http.ts';
import { API_PREFIX, createWorkersAiApp } from './app.ts';

export { LOCAL_INSTRUCTION_MODELS, type LocalInstructionModel } from './instruct.ts';
export { LOCAL_MODELS, type LocalModel } from './models.ts';
export { CHARS_PER_WORD_PIECE, countTokens, truncateToTokens } from './tokens.ts';

export type WorkersAiServiceOptions = {
  /** Interface to bind; default `127.0.0.1`. */
  host?: string;
  /** Port to bind; `0` picks a free one. */
  port: number;
  /** The API token clients must send as a bearer token (`WORKERS_AI_API_TOKEN`). */
  token: string;
  /** The account id the service answers for (`WORKERS_AI_ACCOUNT_ID`). */
  accountId: string;
};

export type WorkersAiService = RunningService & {
  readonly token: string;
  readonly accountId: string;
  /**
   * `{url}/client/v4`: the API root, to pass as the `apiUrl` of the Workers AI client
   * (`WORKERS_AI_API_URL`), in place of `https://api.cloudflare.com/client/v4`.
   */
  readonly apiUrl: string;
};

/**
 * Starts a local Workers AI: Cloudflare's REST API for the text-embedding models Sift uses
 * (`POST /client/v4/accounts/{account}/ai/run/{model}`), answering with vectors of the local
 * feature-hashing model at each model's dimensions, so the production client
 * (`createWorkersAiEmbeddingProvider`) runs unchanged offline; and for the instruction models
 * of document enrichment, answering with Sift's extractive engine in the model's JSON shape
 * (`createWorkersAiProvider`). Nothing is stored.
 */
export async function startWorkersAi(options: WorkersAiServiceOptions): Promise<WorkersAiService> {
  // An empty token would let every request in; an empty account id matches no client's URL.
  if (!options.token) throw new Error('startWorkersAi: token must not be empty');
  if (!options.accountId) throw new Error('startWorkersAi: accountId must not be empty');
  const app = createWorkersAiApp({ token: options.token, accountId: options.accountId });
  const listening = await listen(app, { host: options.host, port: options.port });
  return {
    name: 'workers-ai',
    url: listening.url,
    port: listening.port,
    token: options.token,
    accountId: options.accountId,
    apiUrl: `${listening.url}${API_PREFIX}`,
    close: () => listening.close(),
  };
}
