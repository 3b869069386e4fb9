import { Inflate } from 'fflate';
import {
  INFLATE_STEP_BYTES,
  MAX_COMPRESSION_RATIO,
  MAX_DOCX_ENTRY_BYTES,
  RATIO_CHECK_FLOOR_BYTES,
} from './limits.ts';
import { ExtractionError } from './types.ts';

/** An entry of a ZIP's central directory. */
export type ZipEntry = {
  name: string;
  /** 0 stored, 8 deflated. */
  method: number;
  compressedSize: number;
  /** As the archive declares it: checked, never trusted (inflation counts its own output). */
  declaredSize: number;
  localHeaderOffset: number;
  encrypted: boolean;
  /** CRC-32 of the uncompressed bytes, checked after inflating. */
  crc: number;
};

const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const MAX_ENTRIES = 10_000;

/** CRC-32 (IEEE 802.3, ZIP's), table-driven. */
const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(chunks: readonly Uint8Array[]): number {
  let crc = 0xffffffff;
  for (const chunk of chunks) {
    for (const byte of chunk) crc = (CRC_TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}

const corrupt = (why: string) => new ExtractionError('corrupt', `The archive is damaged: ${why}.`);

/**
 * The central directory of a ZIP archive (the end record searched in the last 64 KiB + 22
 * bytes). A truncated archive has no end record and fails `corrupt`; ZIP64 archives (over 4 GiB,
 * far past the size cap) are not read.
 */
export function readZipDirectory(bytes: Uint8Array): Map<string, ZipEntry> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 0xffff); i--) {
    if (view.getUint32(i, true) === EOCD_SIGNATURE) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw corrupt('no end of central directory (truncated or not a ZIP)');
  const count = view.getUint16(eocd + 10, true);
  const size = view.getUint32(eocd + 12, true);
  let offset = view.getUint32(eocd + 16, true);
  if (count > MAX_ENTRIES) throw corrupt(`${count} entries`);
  if (offset + size > eocd) throw corrupt('central directory out of bounds');
  const entries = new Map<string, ZipEntry>();
  const decoder = new TextDecoder();
  for (let n = 0; n < count; n++) {
    if (offset + 46 > bytes.length || view.getUint32(offset, true) !== CENTRAL_SIGNATURE) {
      throw corrupt('central directory entry unreadable');
    }
    const flags = view.getUint16(offset + 8, true);
    const nameLength = view.getUint16(offset + 28, true);
    const extraLength = view.getUint16(offset + 30, true);
    const commentLength = view.getUint16(offset + 32, true);
    const name = decoder.decode(bytes.subarray(offset + 46, offset + 46 + nameLength));
    entries.set(name, {
      name,
      method: view.getUint16(offset + 10, true),
      compressedSize: view.getUint32(offset + 20, true),
      declaredSize: view.getUint32(offset + 24, true),
      localHeaderOffset: view.getUint32(offset + 42, true),
      encrypted: (flags & 1) === 1,
      crc: view.getUint32(offset + 16, true),
    });
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/**
 * One entry's bytes, inflated a little at a time ({@link INFLATE_STEP_BYTES} of input per step,
 * so at most ~1 MiB of output between checks) and stopped with `too_large_uncompressed` as soon
 * as the output passes `maxBytes` or, past {@link RATIO_CHECK_FLOOR_BYTES}, the compression
 * ratio passes {@link MAX_COMPRESSION_RATIO}. A bomb is never inflated whole, whatever its
 * headers declare. `budget` is what remains of the archive's total cap; it is charged.
 */
export function readZipEntry(
  bytes: Uint8Array,
  entry: ZipEntry,
  budget: { remaining: number },
  maxBytes = MAX_DOCX_ENTRY_BYTES,
): Uint8Array {
  if (entry.encrypted) throw new ExtractionError('encrypted', `${entry.name} is encrypted.`);
  const cap = Math.min(maxBytes, budget.remaining);
  const tooLarge = (why: string) =>
    new ExtractionError(
      'too_large_uncompressed',
      `${entry.name} ${why}: refused as a decompression bomb.`,
    );
  if (entry.declaredSize > cap)
    throw tooLarge(`declares ${entry.declaredSize} bytes uncompressed, over the cap of ${cap}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const at = entry.localHeaderOffset;
  if (at + 30 > bytes.length || view.getUint32(at, true) !== LOCAL_SIGNATURE)
    throw corrupt(`${entry.name} has no local header`);
  const start = at + 30 + view.getUint16(at + 26, true) + view.getUint16(at + 28, true);
  const end = start + entry.compressedSize;
  if (end > bytes.length) throw corrupt(`${entry.name} is cut short`);
  const data = bytes.subarray(start, end);
  if (entry.method === 0) {
    if (data.length > cap) throw tooLarge(`is ${data.length} bytes, over the cap of ${cap}`);
    if (crc32([data]) !== entry.crc) throw corrupt(`${entry.name} fails its CRC check`);
    budget.remaining -= data.length;
    return data;
  }
  if (entry.method !== 8)
    throw new ExtractionError(
      'unsupported',
      `${entry.name} uses compression method ${entry.method}.`,
    );
  const chunks: Uint8Array[] = [];
  let total = 0;
  let done = false;
  const inflater = new Inflate((chunk, final) => {
    chunks.push(chunk);
    total += chunk.length;
    if (final) done = true;
  });
  try {
    for (let i = 0; i < data.length && !done; i += INFLATE_STEP_BYTES) {
      const last = i + INFLATE_STEP_BYTES >= data.length;
      inflater.push(data.subarray(i, i + INFLATE_STEP_BYTES), last);
      if (total > cap) throw tooLarge(`inflates past the cap of ${cap} bytes`);
      const consumed = Math.min(i + INFLATE_STEP_BYTES, data.length);
      if (total > RATIO_CHECK_FLOOR_BYTES && total / consumed > MAX_COMPRESSION_RATIO) {
        throw tooLarge(`inflates at a ratio over ${MAX_COMPRESSION_RATIO}:1`);
      }
    }
  } catch (error) {
    if (error instanceof ExtractionError) throw error;
    throw corrupt(
      `${entry.name} does not inflate (${error instanceof Error ? error.message : error})`,
    );
  }
  if (!done && data.length > 0) throw corrupt(`${entry.name} ends before its deflate stream does`);
  // A damaged stream can still inflate, to other bytes: the checksum tells.
  if (crc32(chunks) !== entry.crc) throw corrupt(`${entry.name} fails its CRC check`);
  budget.remaining -= total;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
