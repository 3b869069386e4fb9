import 'vitest';

/** Values the test projects' global setups provide to tests and to the Workers pool. */
declare module 'vitest' {
  export interface ProvidedContext {
    /** The local cloud's settings (`DATABASE_URL`, `UPSTASH_REDIS_REST_URL`, ...). */
    localCloud: Record<string, string>;
    /** The Worker's settings for the suite's local cloud, as bindings. */
    workerBindings: Record<string, string>;
    /** Print every log line of the Worker tests as it comes (`SIFT_TEST_LOGS=1`). */
    testLogs: boolean;
    /** The Worker tests' webhook lab (`test/helpers/webhook-lab.ts`): QStash's callback target and receivers. */
    webhookLab: string;
  }
}
