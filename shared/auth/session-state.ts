import type { TokenState } from '../../durable-objects/sessions.ts';

/**
 * How long an isolate trusts what it last learnt about a session: the bound on how long a
 * revocation made elsewhere (another isolate, another data centre) takes to reach this one.
 */
export const SESSION_STATE_TTL_MS = 5_000;
/**
 * From this age on, a request still answers from the isolate's copy but asks the object again
 * after the response, so a session in steady use never waits for the object.
 */
export const SESSION_STATE_REFRESH_MS = 2_500;
/** How long a request waits for the `SESSIONS` object before answering 503. */
export const SESSION_STATE_TIMEOUT_MS = 3_000;
/** Bound on the isolate's map (the oldest entry goes first). */
const MAX_ENTRIES = 10_000;

/** The part of a user's `SESSIONS` object this module asks. */
export type SessionStateSource = { tokenState(sessionId: string): Promise<TokenState> };

export type SessionStateDeps = {
  /** The `SESSIONS` object of a user. */
  sessionsOf(userId: string): SessionStateSource;
  /** Keeps the refresh-ahead call alive after the response (`ctx.waitUntil`). */
  waitUntil(promise: Promise<unknown>): void;
};

/** What an access token is worth for its session, or why not. */
export type SessionCheck =
  | { ok: true }
  | { ok: false; reason: 'signed_out' | 'stale' }
  | { ok: false; reason: 'unavailable'; error: unknown };

/** `fetchedAt` (ms) dates the copy; `seq` orders it against others in this isolate. */
type Entry = { state: TokenState; userId: string; fetchedAt: number; seq: number };

// Per isolate, keyed by session id (a `ses_…` ULID, unique across users).
const entries = new Map<string, Entry>();
const inFlight = new Map<string, Promise<TokenState>>();
let sequence = 0;

/**
 * Stores a state unless a newer one is already there. An answer counts from the moment it was
 * asked for, so a look-up that started before this isolate recorded a revocation can never
 * bring the session back to life when it lands after it.
 */
function store(sessionId: string, entry: Entry): void {
  const current = entries.get(sessionId);
  if (current && current.seq > entry.seq) return;
  entries.delete(sessionId);
  if (entries.size >= MAX_ENTRIES) {
    const oldest = entries.keys().next();
    if (!oldest.done) entries.delete(oldest.value);
  }
  entries.set(sessionId, entry);
}

function fetchState(
  deps: SessionStateDeps,
  userId: string,
  sessionId: string,
  now: () => number,
  shared = true,
): Promise<TokenState> {
  const pending = shared ? inFlight.get(sessionId) : undefined;
  if (pending) return pending;
  const askedAt = now();
  const seq = ++sequence;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const promise = Promise.race([
    deps.sessionsOf(userId).tokenState(sessionId),
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`SESSIONS gave no answer within ${SESSION_STATE_TIMEOUT_MS} ms`)),
        SESSION_STATE_TIMEOUT_MS,
      );
    }),
  ])
    .then((state) => {
      store(sessionId, { state, userId, fetchedAt: askedAt, seq });
      return state;
    })
    .finally(() => {
      clearTimeout(timer);
      if (inFlight.get(sessionId) === promise) inFlight.delete(sessionId);
    });
  if (shared) inFlight.set(sessionId, promise);
  return promise;
}

function judge(state: TokenState, generation: number): SessionCheck {
  if (!state.live) return { ok: false, reason: 'signed_out' };
  if (generation < state.minGeneration) return { ok: false, reason: 'stale' };
  return { ok: true };
}

/**
 * Whether an access token's session still accepts it: the session is live, and the token's
 * generation (`gen`, 0 when absent) is not below the session's minimum (a role or membership
 * change since it was issued). The answer comes from this isolate's copy of the session's state
 * while it is younger than `SESSION_STATE_TTL_MS` (5 s), else from the user's `SESSIONS` object,
 * the authority; concurrent look-ups of one session share one call, and a copy older than
 * `SESSION_STATE_REFRESH_MS` is renewed after the response. `fresh` skips the copy (routes that
 * manage keys, members and sessions want the state as it is now).
 *
 * The object not answering (an error, or no answer within 3 s) is `unavailable`: the caller
 * refuses the request (fails closed), since a token it cannot check may belong to a session
 * that was signed out.
 */
export async function checkSession(
  deps: SessionStateDeps,
  token: { userId: string; sessionId: string; generation: number },
  options: { fresh?: boolean; now?: () => number } = {},
): Promise<SessionCheck> {
  const now = options.now ?? Date.now;
  const { userId, sessionId, generation } = token;
  const cached = options.fresh ? undefined : entries.get(sessionId);
  const age = cached && cached.userId === userId ? now() - cached.fetchedAt : Infinity;
  if (cached && age < SESSION_STATE_TTL_MS) {
    if (age >= SESSION_STATE_REFRESH_MS && !inFlight.has(sessionId)) {
      deps.waitUntil(fetchState(deps, userId, sessionId, now).catch(() => undefined));
    }
    return judge(cached.state, generation);
  }
  try {
    return judge(await fetchState(deps, userId, sessionId, now, !options.fresh), generation);
  } catch (error) {
    return { ok: false, reason: 'unavailable', error };
  }
}

/**
 * Records sessions' new states in this isolate at once (after revoking them, or after a
 * membership change), so the isolate that made the change never accepts an old token again,
 * whatever it had cached.
 */
export function recordSessionStates(
  userId: string,
  states: Record<string, TokenState>,
  now: number = Date.now(),
): void {
  for (const [sessionId, state] of Object.entries(states)) {
    store(sessionId, { state, userId, fetchedAt: now, seq: ++sequence });
  }
}

/** Records that sessions ended (a sign-out, a revocation): their tokens are refused at once here. */
export function recordSessionsEnded(userId: string, sessionIds: readonly string[]): void {
  recordSessionStates(
    userId,
    Object.fromEntries(sessionIds.map((id) => [id, { live: false, minGeneration: 0 }])),
  );
}

/** Empties this isolate's copies (tests use it to act as another isolate would). */
export function clearSessionStates(): void {
  entries.clear();
}
