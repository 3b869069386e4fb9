/**
 * The ranges of Postgres' integer column types. A number a client sends that reaches such a
 * column (a version, a count) must be held to its column's range at the edge: beyond it, Postgres
 * refuses the query (SQLSTATE 22003), which is the request's fault, never an outage.
 */

/** The largest value of an `integer` (int4) column: 2³¹ − 1. */
export const INT4_MAX = 2_147_483_647;

/** The smallest value of an `integer` (int4) column: −2³¹. */
export const INT4_MIN = -2_147_483_648;
