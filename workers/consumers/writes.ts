import { CONTENT_WRITE, ContentWrite, persistContentWrite } from '../../shared/content/writes.ts';
import { type Consumer, handler, PermanentError } from './policy.ts';

/**
 * The `WRITES` consumer. `content.write` persists one accepted mutation in one transaction
 * (`persistContentWrite`: idempotent by content id + version, so a redelivery changes nothing).
 * A write that can never succeed (slug taken, category of another organisation) marks its
 * operation failed with the problem and is acked; a version recorded with another snapshot is
 * also dead-lettered, since the edge acknowledged something that cannot be stored. Anything
 * else (Postgres unreachable) throws, and the shared policy retries with backoff.
 */
export function writesConsumer(deadLetterQueue: Queue): Consumer {
  return {
    deadLetterQueue,
    handlers: {
      [CONTENT_WRITE]: handler({
        payload: ContentWrite,
        async handle(write, { services, logger, meta }) {
          const result = await services.transaction((tx) =>
            persistContentWrite(tx, write, { requestId: meta.request_id }),
          );
          const fields = {
            operation_id: write.operation_id,
            content_id: write.content_id,
            version: write.version,
            result: result.status,
          };
          if (result.status !== 'failed') {
            logger.info('content write persisted', fields);
            return;
          }
          logger.warn('content write refused', { ...fields, reason: result.reason });
          if (result.reason === 'version_conflict') {
            throw new PermanentError(
              `content ${write.content_id} version ${write.version} was already recorded with a different snapshot`,
            );
          }
        },
      }),
    },
  };
}
