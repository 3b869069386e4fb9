import type { Logger } from '../logger.ts';
import { type Breaker, CircuitOpenError } from '../resilience/circuit-breaker.ts';
import { estimateCost, type WorkersAiInstructionModel } from './models.ts';

/** Why no model answered, so that the extractive engine did. */
export type ModelFallbackReason =
  | 'provider_error'
  | 'invalid_output'
  | 'circuit_open'
  | 'over_budget';

export type RunModelsOptions<T, R> = {
  /** The request's input tokens (estimated) and its output cap: what `budget` is asked about. */
  tokens: { input: number; output: number };
  /** Asked before each model with its estimated cost; `false` skips it (`over_budget`). */
  budget?: ((estimate: { model: string; usd: number }) => boolean | Promise<boolean>) | undefined;
  /** The breaker each call goes through (the `llm` one). */
  breaker: Pick<Breaker, 'run'>;
  /** Which errors of a call count against the breaker. */
  isFailure: (error: unknown) => boolean;
  /** Which errors are a model answering something invalid (`invalid_output`). */
  isInvalidOutput: (error: unknown) => boolean;
  /**
   * What a model's answer becomes, outside the breaker: an error it throws passes to the next
   * model as a failed call does.
   */
  accept: (model: WorkersAiInstructionModel, answer: T) => R;
  logger?: Pick<Logger, 'warn'> | undefined;
  /** The warning logged (with the model, the reason and the error) for each model that fails. */
  failureEvent: string;
};

/**
 * Asks Workers AI instruction models in order until one answers, as answers and enrichment both
 * do: a model the budget refuses is skipped (`over_budget`); each call goes through the breaker;
 * a model whose call fails (`provider_error`) or whose answer `accept` cannot use
 * (`invalid_output`) is logged and the next one asked; an open circuit stops at once
 * (`circuit_open`, nothing logged). When no model answers, the reason is the last one tried's;
 * the caller then answers with the extractive engine.
 */
export async function runModels<T, R>(
  models: readonly WorkersAiInstructionModel[],
  call: (model: WorkersAiInstructionModel) => Promise<T>,
  options: RunModelsOptions<T, R>,
): Promise<{ ok: true; value: R } | { ok: false; reason: ModelFallbackReason }> {
  const { isFailure } = options;
  let reason: ModelFallbackReason = 'provider_error';
  for (const name of models) {
    if (options.budget) {
      const usd = estimateCost(name, options.tokens);
      if (!(await options.budget({ model: name, usd }))) {
        reason = 'over_budget';
        continue;
      }
    }
    try {
      const answer = await options.breaker.run(() => call(name), { isFailure });
      return { ok: true, value: options.accept(name, answer) };
    } catch (error) {
      if (error instanceof CircuitOpenError) {
        reason = 'circuit_open';
        break;
      }
      reason = options.isInvalidOutput(error) ? 'invalid_output' : 'provider_error';
      options.logger?.warn(options.failureEvent, {
        model: name,
        reason,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return { ok: false, reason };
}
