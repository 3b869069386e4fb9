/**
 * Just enough of the PostgreSQL v3 wire protocol for a proxy and a session multiplexer: message
 * framing in both directions, the startup packet, and the few backend messages the local cloud
 * writes itself. Queries themselves are never parsed here; their bytes pass through untouched.
 */

export const PROTOCOL_3 = 196608;
export const SSL_REQUEST = 80877103;
export const GSSENC_REQUEST = 80877104;
export const CANCEL_REQUEST = 80877102;

/** One typed message: `type` is the ASCII tag, `body` excludes the tag and length. */
export type Message = { type: string; body: Buffer; raw: Buffer };

export type StartupPacket =
  | { kind: 'startup'; params: Record<string, string>; raw: Buffer }
  | { kind: 'ssl' | 'gssenc' }
  | { kind: 'cancel'; processId: number; secretKey: number; raw: Buffer }
  | { kind: 'unsupported'; code: number };

/**
 * Accumulates bytes from a stream and hands out whole messages. Startup packets have no type
 * byte, so the caller says which kind it expects next.
 */
export class MessageReader {
  private buffer: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
  }

  get pending(): number {
    return this.buffer.length;
  }

  /** Takes every byte not yet consumed (to forward verbatim after a handshake). */
  drain(): Buffer {
    const rest = this.buffer;
    this.buffer = Buffer.alloc(0);
    return rest;
  }

  nextStartup(maxLength = 10_000): StartupPacket | 'incomplete' | 'invalid' {
    if (this.buffer.length < 8) return 'incomplete';
    const length = this.buffer.readInt32BE(0);
    if (length < 8 || length > maxLength) return 'invalid';
    if (this.buffer.length < length) return 'incomplete';
    const raw = this.buffer.subarray(0, length);
    this.buffer = this.buffer.subarray(length);
    const code = raw.readInt32BE(4);
    if (code === SSL_REQUEST) return { kind: 'ssl' };
    if (code === GSSENC_REQUEST) return { kind: 'gssenc' };
    if (code === CANCEL_REQUEST && length === 16) {
      return { kind: 'cancel', processId: raw.readInt32BE(8), secretKey: raw.readInt32BE(12), raw };
    }
    if (code !== PROTOCOL_3) return { kind: 'unsupported', code };
    const params: Record<string, string> = {};
    const parts = raw.subarray(8).toString('utf8').split('\0');
    for (let i = 0; i + 1 < parts.length; i += 2) {
      const key = parts[i];
      if (!key) break;
      params[key] = parts[i + 1] ?? '';
    }
    return { kind: 'startup', params, raw };
  }

  /** The next typed message, `'incomplete'` when more bytes are needed. */
  next(maxLength = 1 << 30): Message | 'incomplete' | 'invalid' {
    if (this.buffer.length < 5) return 'incomplete';
    const length = this.buffer.readInt32BE(1);
    if (length < 4 || length > maxLength) return 'invalid';
    if (this.buffer.length < length + 1) return 'incomplete';
    const raw = this.buffer.subarray(0, length + 1);
    this.buffer = this.buffer.subarray(length + 1);
    return { type: String.fromCharCode(raw[0]!), body: raw.subarray(5), raw };
  }
}

/** Walks a buffer of backend messages, calling `visit` for each; returns the last RFQ status. */
export function lastReadyStatus(bytes: Uint8Array): 'I' | 'T' | 'E' | undefined {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let status: 'I' | 'T' | 'E' | undefined;
  let offset = 0;
  while (offset + 5 <= view.length) {
    const type = view[offset];
    const length = view.readInt32BE(offset + 1);
    if (type === 0x5a && length === 5 && offset + 6 <= view.length) {
      status = String.fromCharCode(view[offset + 5]!) as 'I' | 'T' | 'E';
    }
    offset += 1 + length;
  }
  return status;
}

/** Frames a typed message (either direction): tag, int32 length, body. */
export function message(type: string, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(5 + body.length);
  out[0] = type.charCodeAt(0);
  out.writeInt32BE(4 + body.length, 1);
  body.copy(out, 5);
  return out;
}

function int32(...values: number[]): Buffer {
  const out = Buffer.allocUnsafe(4 * values.length);
  for (const [i, v] of values.entries()) out.writeInt32BE(v, i * 4);
  return out;
}

function cstring(value: string): Buffer {
  return Buffer.from(`${value}\0`, 'utf8');
}

export const backend = {
  authenticationOk: () => message('R', int32(0)),
  authenticationCleartextPassword: () => message('R', int32(3)),
  parameterStatus: (name: string, value: string) =>
    message('S', Buffer.concat([cstring(name), cstring(value)])),
  backendKeyData: (processId: number, secretKey: number) =>
    message('K', int32(processId, secretKey)),
  readyForQuery: (status: 'I' | 'T' | 'E') => message('Z', Buffer.from(status, 'latin1')),
  /** ErrorResponse (or NoticeResponse with `type: 'N'`) from SQLSTATE fields. */
  error: (
    fields: { severity: 'ERROR' | 'FATAL'; code: string; message: string; detail?: string },
    type: 'E' | 'N' = 'E',
  ) => {
    const parts = [
      Buffer.from('S'),
      cstring(fields.severity),
      Buffer.from('V'),
      cstring(fields.severity),
      Buffer.from('C'),
      cstring(fields.code),
      Buffer.from('M'),
      cstring(fields.message),
    ];
    if (fields.detail) parts.push(Buffer.from('D'), cstring(fields.detail));
    parts.push(Buffer.from([0]));
    return message(type, Buffer.concat(parts));
  },
};

export const frontend = {
  startup(params: Record<string, string>): Buffer {
    const pairs = Object.entries(params).flatMap(([k, v]) => [cstring(k), cstring(v)]);
    const body = Buffer.concat([int32(PROTOCOL_3), ...pairs, Buffer.from([0])]);
    return Buffer.concat([int32(body.length + 4), body]);
  },
  password: (password: string) => message('p', cstring(password)),
  saslInitial(mechanism: string, response: string): Buffer {
    const data = Buffer.from(response, 'utf8');
    return message('p', Buffer.concat([cstring(mechanism), int32(data.length), data]));
  },
  saslResponse: (response: string) => message('p', Buffer.from(response, 'utf8')),
  query: (sql: string) => message('Q', cstring(sql)),
  terminate: () => message('X', Buffer.alloc(0)),
};

/** The fields of an ErrorResponse/NoticeResponse body, keyed by their one-letter codes. */
export function errorFields(body: Buffer): Record<string, string> {
  const fields: Record<string, string> = {};
  let offset = 0;
  while (offset < body.length && body[offset] !== 0) {
    const code = String.fromCharCode(body[offset]!);
    const end = body.indexOf(0, offset + 1);
    if (end < 0) break;
    fields[code] = body.subarray(offset + 1, end).toString('utf8');
    offset = end + 1;
  }
  return fields;
}

/** Reads a NUL-terminated string at `offset`; returns it and the offset after the NUL. */
export function readCString(body: Buffer, offset: number): [string, number] {
  const end = body.indexOf(0, offset);
  if (end < 0) throw new RangeError('unterminated string in protocol message');
  return [body.subarray(offset, end).toString('utf8'), end + 1];
}
