import { z } from 'zod';

/**
 * Keyset cursors for lists ordered by (time, id) descending: an opaque base64url string holding
 * the last row's sort key. The time travels as Postgres prints it (microseconds), so the next
 * page starts exactly after the last row, never skipping or repeating one.
 */
const CursorPayload = z.object({ t: z.string().min(1).max(64), id: z.string().min(1).max(64) });
export type Cursor = z.infer<typeof CursorPayload>;

export function encodeCursor(cursor: Cursor): string {
  const bytes = new TextEncoder().encode(JSON.stringify(cursor));
  return btoa(String.fromCharCode(...bytes))
    .replaceAll('+', '-')
    .replaceAll('/', '_')
    .replace(/=+$/, '');
}

/**
 * The form of a cursor's time: UTC RFC 3339 with a four-digit year, as Postgres prints it (or
 * `toISOString` does), so that it is always a `timestamptz` Postgres accepts.
 */
const CURSOR_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;

/** The cursor, or undefined when the string is not one this API issued. */
export function decodeCursor(value: string): Cursor | undefined {
  try {
    const binary = atob(value.replaceAll('-', '+').replaceAll('_', '/'));
    const json = new TextDecoder().decode(Uint8Array.from(binary, (ch) => ch.charCodeAt(0)));
    const parsed = CursorPayload.safeParse(JSON.parse(json));
    if (!parsed.success || !CURSOR_TIME.test(parsed.data.t)) return undefined;
    return Number.isNaN(Date.parse(parsed.data.t)) ? undefined : parsed.data;
  } catch {
    return undefined;
  }
}
