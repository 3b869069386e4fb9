import {
  ACCEPTED_DOCUMENT_TYPES,
  DOCUMENT_TYPES,
  type DocumentType,
  DocxScanner,
  SNIFF_BYTES,
  sniffFamily,
  textType,
  Utf8Checker,
} from './detect.ts';

/** The largest original accepted: 50 MiB. */
export const MAX_DOCUMENT_BYTES = 50 * 1024 * 1024;

/**
 * R2 multipart parts for uploads of unknown length: every part but the last must be the same
 * size and at least 5 MiB, so at most this much is held in memory at once.
 */
const PART_BYTES = 8 * 1024 * 1024;

/** Where a document's files live in the `FILES` bucket: everything under its prefix. */
export const documentPrefix = (orgId: string, documentId: string) =>
  `${orgId}/documents/${documentId}/`;
export const originalKey = (orgId: string, documentId: string) =>
  `${documentPrefix(orgId, documentId)}original`;
export const textKey = (orgId: string, documentId: string) =>
  `${documentPrefix(orgId, documentId)}text`;

export type StoredOriginal = {
  contentType: string;
  type: DocumentType;
  sizeBytes: number;
  sha256: string;
};

export type StoreFailure =
  | { reason: 'empty' }
  | { reason: 'too_large'; limit: number }
  | { reason: 'unsupported'; found: string }
  | { reason: 'length_mismatch'; declared: number; received: number };

/** Thrown inside the stream to stop the upload; turned back into a {@link StoreFailure}. */
class Stop extends Error {
  readonly failure: StoreFailure;
  constructor(failure: StoreFailure) {
    super(failure.reason);
    this.failure = failure;
  }
}

/**
 * Streams a request body into R2 at `key`, never holding it whole: the first bytes decide the
 * type (nothing is written for an unsupported one), SHA-256 and size are computed as the bytes
 * pass, and the upload stops as soon as it passes `maxBytes`. A DOCX is confirmed and text is
 * checked to be UTF-8 without NUL over the whole stream; when either fails at the end the object
 * is deleted. With a known `declaredLength` the object is written with one `put` through a
 * `FixedLengthStream`; without, as an R2 multipart upload of {@link PART_BYTES} parts. On any
 * failure nothing is left at `key`.
 */
export async function storeOriginal(
  bucket: R2Bucket,
  key: string,
  body: ReadableStream<Uint8Array> | null,
  options: {
    declaredLength: number | undefined;
    fileName: string;
    declaredType: string | undefined;
    maxBytes?: number;
  },
): Promise<{ ok: true; value: StoredOriginal } | { ok: false; failure: StoreFailure }> {
  const maxBytes = options.maxBytes ?? MAX_DOCUMENT_BYTES;
  if (options.declaredLength !== undefined && options.declaredLength > maxBytes) {
    await body?.cancel().catch(() => {});
    return { ok: false, failure: { reason: 'too_large', limit: maxBytes } };
  }
  if (body === null || options.declaredLength === 0) return fail({ reason: 'empty' });
  const reader = body.getReader();

  // The head: enough bytes to decide the type, read before anything is written.
  const head: Uint8Array[] = [];
  let headBytes = 0;
  let ended = false;
  while (headBytes < SNIFF_BYTES) {
    const { done, value } = await reader.read();
    if (done) {
      ended = true;
      break;
    }
    head.push(value);
    headBytes += value.byteLength;
  }
  if (headBytes === 0) return fail({ reason: 'empty' });
  const family = sniffFamily(concat(head));
  if (typeof family === 'object') {
    await reader.cancel().catch(() => {});
    return fail({ reason: 'unsupported', found: family.unsupported });
  }

  const digest = new crypto.DigestStream('SHA-256');
  const digestWriter = digest.getWriter();
  const docx = family === 'zip' ? new DocxScanner() : undefined;
  const utf8 = family === 'text' || family === 'html' ? new Utf8Checker() : undefined;
  let size = 0;
  const inspect = async (chunk: Uint8Array) => {
    size += chunk.byteLength;
    if (size > maxBytes) throw new Stop({ reason: 'too_large', limit: maxBytes });
    docx?.push(chunk);
    utf8?.push(chunk);
    await digestWriter.write(chunk);
  };
  let pending = [...head];
  const source = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = pending.shift() ?? (ended ? undefined : await readChunk(reader));
      if (next === undefined) {
        ended = true;
        controller.close();
        return;
      }
      await inspect(next);
      controller.enqueue(next);
    },
    async cancel(reason) {
      await reader.cancel(reason).catch(() => {});
    },
  });

  try {
    if (options.declaredLength !== undefined) {
      const fixed = new FixedLengthStream(options.declaredLength);
      const [pipe, put] = await Promise.allSettled([
        source.pipeTo(fixed.writable),
        bucket.put(key, fixed.readable),
      ]);
      // The pipe's error says why (a Stop) when the put failed because the pipe did.
      if (pipe.status === 'rejected') throw pipe.reason;
      if (put.status === 'rejected') throw put.reason;
    } else {
      await multipartPut(bucket, key, source);
    }
  } catch (error) {
    pending = [];
    await bucket.delete(key).catch(() => {});
    if (error instanceof Stop) return fail(error.failure);
    if (options.declaredLength !== undefined && size !== options.declaredLength) {
      return fail({
        reason: 'length_mismatch',
        declared: options.declaredLength,
        received: size,
      });
    }
    throw error;
  }
  if (options.declaredLength !== undefined && size !== options.declaredLength) {
    await bucket.delete(key).catch(() => {});
    return fail({ reason: 'length_mismatch', declared: options.declaredLength, received: size });
  }

  await digestWriter.close();
  const sha256 = hex(await digest.digest);
  let type: DocumentType;
  if (family === 'pdf') type = 'pdf';
  else if (family === 'zip') {
    if (!docx?.found) {
      await bucket.delete(key);
      return fail({ reason: 'unsupported', found: 'a ZIP archive that is not a DOCX document' });
    }
    type = 'docx';
  } else {
    if (!utf8?.end()) {
      await bucket.delete(key);
      return fail({ reason: 'unsupported', found: 'binary data (not UTF-8 text without NUL)' });
    }
    type = family === 'html' ? 'html' : textType(options.fileName, options.declaredType);
  }
  return { ok: true, value: { type, contentType: DOCUMENT_TYPES[type], sizeBytes: size, sha256 } };
}

function fail(failure: StoreFailure) {
  return { ok: false as const, failure };
}

async function readChunk(
  reader: ReadableStreamDefaultReader<Uint8Array>,
): Promise<Uint8Array | undefined> {
  const { done, value } = await reader.read();
  return done ? undefined : value;
}

/** An R2 multipart upload of equal {@link PART_BYTES} parts (the last may be shorter). */
async function multipartPut(
  bucket: R2Bucket,
  key: string,
  source: ReadableStream<Uint8Array>,
): Promise<void> {
  const upload = await bucket.createMultipartUpload(key);
  const parts: R2UploadedPart[] = [];
  const buffer = new Uint8Array(PART_BYTES);
  let filled = 0;
  const reader = source.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      let offset = 0;
      while (offset < value.byteLength) {
        const take = Math.min(PART_BYTES - filled, value.byteLength - offset);
        buffer.set(value.subarray(offset, offset + take), filled);
        filled += take;
        offset += take;
        if (filled === PART_BYTES) {
          parts.push(await upload.uploadPart(parts.length + 1, buffer.slice()));
          filled = 0;
        }
      }
    }
    if (filled > 0 || parts.length === 0) {
      parts.push(await upload.uploadPart(parts.length + 1, buffer.slice(0, filled)));
    }
    await upload.complete(parts);
  } catch (error) {
    await reader.cancel().catch(() => {});
    await upload.abort().catch(() => {});
    throw error;
  }
}

/** Deletes every object under a document's prefix (its original, its text, anything later). */
export async function deleteDocumentFiles(
  bucket: R2Bucket,
  orgId: string,
  documentId: string,
): Promise<void> {
  const prefix = documentPrefix(orgId, documentId);
  let cursor: string | undefined;
  do {
    const listing = await bucket.list({ prefix, ...(cursor ? { cursor } : {}) });
    const keys = listing.objects.map((object) => object.key);
    if (keys.length > 0) await bucket.delete(keys);
    cursor = listing.truncated ? listing.cursor : undefined;
  } while (cursor);
}

/** The message of a 415 for `found`. */
export const unsupportedMessage = (found: string) =>
  `The file is ${found}; accepted types are ${ACCEPTED_DOCUMENT_TYPES}. The type is read from the file's bytes, not its name.`;

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

function hex(buffer: ArrayBuffer): string {
  return [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, '0')).join('');
}
