/**
 * The windows and floors of the `compute-trends` job (`compute.ts`), apart from it so that pure
 * code (tests, benchmarks, tools) can use them without the Worker's services.
 */

/** Items first published, or engaged with, this recently are clustered. */
export const TOPIC_WINDOW_DAYS = 7;
/** The series a topic is scored over (and recounted over when its members change). */
export const SERIES_DAYS = 14;
/** Most new items one run clusters (the rest wait for the next run). */
export const MAX_NEW_ITEMS_PER_RUN = 1_000;
/** An active topic with no new member for this long, and no lifecycle, is retired. */
export const RETIRE_DAYS = 14;
/** Fewest members a topic needs to be scored as a trend (one item is `/v1/trending`'s). */
export const MIN_TOPIC_ITEMS = 2;
