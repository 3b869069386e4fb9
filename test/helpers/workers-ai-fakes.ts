import { expect } from 'vitest';
import { CircuitBreaker, CircuitOpenError } from '../../shared/resilience/circuit-breaker.ts';

/**
 * Stand-ins for Workers AI's REST API and for the circuit breaker, for the tests of what calls an
 * instruction model (`shared/ai/answer.ts`, `shared/ai/provider.ts`) without the local cloud.
 */

/** A breaker that lets every call through (the registry's is shared by the isolate's tests). */
export const passThroughBreaker = { run: <T>(fn: () => Promise<T>) => fn() };

/**
 * A fetch that answers each model by `answer`, given the model (the path after `/ai/run/`) and
 * the JSON body sent, and records the models asked, in order.
 */
export function fakeWorkersAi(
  answer: (model: string, body: unknown) => Response | Promise<Response>,
) {
  const asked: string[] = [];
  const fetcher = (async (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
    const model = String(input).split('/ai/run/')[1] as string;
    asked.push(model);
    return answer(model, JSON.parse(String(init?.body)));
  }) as typeof fetch;
  return { fetcher, asked };
}

/**
 * Workers AI's answer: `{result, success: true}` with a `200`, or, with another status, a failure
 * (`success: false` and a capacity error) whatever `result` is.
 */
export const workersAiEnvelope = (result: unknown, status = 200) =>
  Response.json(
    status === 200
      ? { result, success: true, errors: [], messages: [] }
      : {
          result: null,
          success: false,
          errors: [{ code: 3040, message: 'Capacity' }],
          messages: [],
        },
    { status },
  );

/** A breaker of `dependency` that one failure has opened for a minute: it refuses every call. */
export async function trippedBreaker(dependency: string): Promise<CircuitBreaker> {
  const tripped = new CircuitBreaker(dependency, { minimumRequests: 1, openMs: 60_000 });
  await expect(tripped.run(() => Promise.reject(new Error('down')))).rejects.toThrow('down');
  await expect(tripped.run(() => Promise.resolve(1))).rejects.toBeInstanceOf(CircuitOpenError);
  return tripped;
}
