/**
 * The reply model both backends produce and the REST encoder consumes. It keeps exactly the RESP2
 * distinctions the Upstash encoding depends on: a status reply (`+OK`) is not a bulk string (`$2
 * OK`), since only the top-level status `OK` escapes base64.
 *
 * Strings are "byte strings": JS strings whose every char code is one byte (0–255), i.e. latin1
 * views of the raw bytes. They are binary-safe, cheap to compare and hash as `Map` keys, and sort
 * in byte order (what Redis' `memcmp` does), so the engine never needs Buffers on its hot path.
 */
export type Reply = string | number | bigint | null | Status | ErrorReply | Reply[];

/** A RESP2 simple string (`+PONG`). `value` is a byte string. */
export class Status {
  readonly value: string;
  constructor(value: string) {
    this.value = value;
  }
}

/** A RESP2 error (`-ERR ...`). `message` is a byte string without the leading `-`. */
export class ErrorReply {
  readonly message: string;
  constructor(message: string) {
    this.message = message;
  }
}

export const OK = new Status('OK');
export const PONG = new Status('PONG');

/** A command as the backends take it: name first, every element a byte string. */
export type Argv = string[];

// biome-ignore lint/suspicious/noControlCharactersInRegex: the whole ASCII range is the point.
const ASCII = /^[\x00-\x7f]*$/;

/** UTF-8 bytes of a JS string, as a byte string (ASCII, the common case, is already one). */
export function toBytes(text: string): string {
  return ASCII.test(text) ? text : Buffer.from(text, 'utf8').toString('latin1');
}

/** A byte string decoded as UTF-8 (invalid sequences become U+FFFD, as Upstash does). */
export function fromBytes(bytes: string): string {
  return ASCII.test(bytes) ? bytes : Buffer.from(bytes, 'latin1').toString('utf8');
}

function base64(bytes: string): string {
  return Buffer.from(bytes, 'latin1').toString('base64');
}

/**
 * JSON text of a reply as Upstash sends it inside `{"result": ...}`. With `base64`, every string
 * at any depth is base64 — status replies too — except a top-level status `OK`: the SDK decodes
 * top-level array elements unconditionally (so an `OK` inside an array must be encoded) and keeps
 * a bare top-level `"OK"` as is. An error nested in an array (EXEC or a script can return one)
 * is sent as its message string.
 */
export function encodeResult(reply: Reply, b64: boolean): string {
  if (b64 && reply instanceof Status && reply.value === 'OK') return '"OK"';
  return encode(reply, b64);
}

function encode(reply: Reply, b64: boolean): string {
  if (typeof reply === 'string')
    return b64 ? `"${base64(reply)}"` : JSON.stringify(fromBytes(reply));
  if (typeof reply === 'number') return Number.isFinite(reply) ? String(reply) : 'null';
  if (typeof reply === 'bigint') return reply.toString();
  if (reply === null) return 'null';
  if (Array.isArray(reply)) {
    let out = '[';
    for (let i = 0; i < reply.length; i++) {
      if (i > 0) out += ',';
      out += encode(reply[i] as Reply, b64);
    }
    return `${out}]`;
  }
  const text = reply instanceof Status ? reply.value : reply.message;
  return b64 ? `"${base64(text)}"` : JSON.stringify(fromBytes(text));
}

/** `{"result":...}` or `{"error":...}` for one command. */
export function encodeEntry(reply: Reply, b64: boolean): string {
  if (reply instanceof ErrorReply) return `{"error":${JSON.stringify(fromBytes(reply.message))}}`;
  return `{"result":${encodeResult(reply, b64)}}`;
}
