import type { Logger } from '../../shared/logger.ts';
import type { Services } from '../../shared/services.ts';
import type { TraceContext } from '../../shared/trace.ts';

export type CronContext = {
  /** The Worker's bindings (Durable Object namespaces, for jobs that write through the ledger). */
  env: Env;
  services: Services;
  logger: Logger;
  /** When the platform scheduled this run (ms); jobs read "now" from it, so tests control it. */
  scheduledTime: number;
  /** This run's id and trace: the queue messages it sends carry them, as a request's do. */
  origin: { requestId: string; trace: TraceContext };
};

/** One scheduled job; `run` reports what it did (logged, and returned to tests). */
export type CronJob = {
  name: string;
  run(context: CronContext): Promise<Record<string, unknown>>;
};
