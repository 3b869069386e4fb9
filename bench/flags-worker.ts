/**
 * The Worker of `bench:flags`' workerd rows, run by `wrangler dev` with a configuration of its
 * own (no bindings, no network): it times flag evaluation inside workerd and says what it
 * evaluated. workerd's clock moves in whole milliseconds, so one evaluation (microseconds) cannot
 * be timed alone: it times batches of `batch` evaluations and reports each batch's mean per
 * evaluation.
 */
import { evaluateFlag } from '../shared/flags/evaluate.ts';
import { benchContext, benchFlags, MANY, ONE_FLAG } from './flags-fixtures.ts';

export type WorkerRun = {
  /** Milliseconds per evaluation, one value per batch. */
  perEvaluationMs: number[];
  evaluations: number;
  /** Answers produced (one per flag per evaluation). */
  answers: number;
  /** Answers with an error code (expected none). */
  errors: number;
  /** Answers by reason, to show the rules did their work. */
  reasons: Record<string, number>;
  /** The runtime, as the Worker sees it. */
  userAgent: string;
};

/** Contexts made before timing, so a batch times evaluation only. */
const contexts = Array.from({ length: 10_000 }, (_, i) => benchContext(i));
const context = (i: number) => contexts[i % contexts.length]!;

/**
 * The many-flag set. Evaluated as `evaluateSnapshot` does for every live flag (`evaluateFlag` on
 * each, in order), without importing it: its module brings the Worker's services types, which
 * the Node type-check of `bench/` cannot resolve.
 */
const set = benchFlags(MANY);

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const scenario = url.searchParams.get('scenario');
    const batches = Number(url.searchParams.get('batches') ?? 100);
    const batch = Number(url.searchParams.get('batch') ?? 1000);
    const warmup = Number(url.searchParams.get('warmup') ?? 1000);
    const evaluate =
      scenario === 'one'
        ? (i: number) => [evaluateFlag(ONE_FLAG, context(i))]
        : scenario === 'many'
          ? (i: number) => set.map((flag) => evaluateFlag(flag, context(i)))
          : undefined;
    if (evaluate === undefined) return new Response('scenario: one or many', { status: 400 });
    for (let i = 0; i < warmup; i++) evaluate(i);
    const run: WorkerRun = {
      perEvaluationMs: [],
      evaluations: 0,
      answers: 0,
      errors: 0,
      reasons: {},
      userAgent: navigator.userAgent,
    };
    for (let b = 0; b < batches; b++) {
      const results = [];
      const t0 = performance.now();
      for (let j = 0; j < batch; j++) results.push(evaluate(b * batch + j));
      run.perEvaluationMs.push((performance.now() - t0) / batch);
      for (const answers of results) {
        run.evaluations++;
        run.answers += answers.length;
        for (const answer of answers) {
          if (answer.errorCode !== undefined) run.errors++;
          run.reasons[answer.reason] = (run.reasons[answer.reason] ?? 0) + 1;
        }
      }
    }
    return Response.json(run);
  },
};
