import { env } from 'cloudflare:workers';
import { documents } from '../../../../shared/db/schema/index.ts';
import { originalKey } from '../../../../shared/documents/storage.ts';
import { newId } from '../../../../shared/ids.ts';
import { call, testDb } from '../../helpers.ts';

const utf8 = (text: string) => new TextEncoder().encode(text);

/** A minimal well-formed PDF (one empty page) with `marker` in a comment, so each is unique. */
export function pdf(marker = crypto.randomUUID()): Uint8Array {
  const objects = [
    '1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n',
    '2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n',
    '3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>\nendobj\n',
  ];
  let body = `%PDF-1.4\n% ${marker}\n`;
  const offsets: number[] = [];
  for (const object of objects) {
    offsets.push(utf8(body).length);
    body += object;
  }
  const xref = utf8(body).length;
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) body += `${String(offset).padStart(10, '0')} 00000 n \n`;
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return utf8(body);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = CRC_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** A ZIP archive of `files` (stored, not compressed), with its central directory. */
export function zip(files: Record<string, string>): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const [name, content] of Object.entries(files)) {
    const nameBytes = utf8(name);
    const data = utf8(content);
    const crc = crc32(data);
    const local = new DataView(new ArrayBuffer(30));
    local.setUint32(0, 0x04034b50, true);
    local.setUint16(4, 20, true);
    local.setUint32(14, crc, true);
    local.setUint32(18, data.length, true);
    local.setUint32(22, data.length, true);
    local.setUint16(26, nameBytes.length, true);
    const header = new DataView(new ArrayBuffer(46));
    header.setUint32(0, 0x02014b50, true);
    header.setUint16(4, 20, true);
    header.setUint16(6, 20, true);
    header.setUint32(16, crc, true);
    header.setUint32(20, data.length, true);
    header.setUint32(24, data.length, true);
    header.setUint16(28, nameBytes.length, true);
    header.setUint32(42, offset, true);
    parts.push(new Uint8Array(local.buffer), nameBytes, data);
    central.push(new Uint8Array(header.buffer), nameBytes);
    offset += 30 + nameBytes.length + data.length;
  }
  const centralSize = central.reduce((n, p) => n + p.length, 0);
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, Object.keys(files).length, true);
  end.setUint16(10, Object.keys(files).length, true);
  end.setUint32(12, centralSize, true);
  end.setUint32(16, offset, true);
  return concat([...parts, ...central, new Uint8Array(end.buffer)]);
}

/** A minimal DOCX: content types, the package relationship and `word/document.xml`. */
export function docx(text = crypto.randomUUID()): Uint8Array {
  return zip({
    '[Content_Types].xml':
      '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
    '_rels/.rels':
      '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
    'word/document.xml': `<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>${text}</w:t></w:r></w:p></w:body></w:document>`,
  });
}

export const html = (marker = crypto.randomUUID()) =>
  utf8(
    `\n<!DOCTYPE html>\n<html><head><title>${marker}</title></head><body><p>Hi</p></body></html>\n`,
  );
export const markdown = (marker = crypto.randomUUID()) =>
  utf8(`# Notes ${marker}\n\n- one\n- two\n\nمرحبا بالعالم\n`);
export const plainText = (marker = crypto.randomUUID()) =>
  utf8(`Plain notes ${marker}.\nSecond line, naïve café.\n`);
export const png = () =>
  concat([
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    utf8(crypto.randomUUID()),
  ]);
export const exe = () => concat([utf8('MZ'), new Uint8Array(62), utf8(crypto.randomUUID())]);

export function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

export async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

export type DocumentBody = {
  id: string;
  title: string;
  locale: string | null;
  category_id: string | null;
  tags: string[];
  visibility: 'private' | 'organization';
  uploaded_by: string;
  file_name: string;
  content_type: string;
  size_bytes: number;
  sha256: string;
  status: string;
  failure_reason: string | null;
  operation_id: string | null;
  version: number;
  original_url: string;
  created_at: string;
  updated_at: string;
};

/** `POST /v1/documents` with `bytes` as the body (its length declared) and `query` as metadata. */
export function upload(
  auth: Record<string, string>,
  bytes: Uint8Array,
  query: Record<string, string> = {},
  headers: Record<string, string> = {},
): Promise<Response> {
  const params = new URLSearchParams({ file_name: 'file.bin', ...query });
  return call(`/v1/documents?${params}`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/octet-stream',
      'Content-Length': String(bytes.length),
      ...auth,
      ...headers,
    },
    body: bytes,
  });
}

/** The keys the bucket holds under an organisation's documents. */
export async function storedKeys(orgId: string): Promise<string[]> {
  const listing = await env.FILES.list({ prefix: `${orgId}/documents/` });
  return listing.objects.map((object) => object.key).sort();
}

/**
 * The originals the bucket holds under an organisation's documents (not the texts the pipeline
 * writes beside them in the background).
 */
export async function storedOriginals(orgId: string): Promise<string[]> {
  return (await storedKeys(orgId)).filter((key) => key.endsWith('/original'));
}

/**
 * A document straight into Postgres and R2 (for suites that need one without the route): a
 * small PDF, `organization` unless told.
 */
export async function insertDocument(
  orgId: string,
  options: { title?: string; uploadedBy?: string; visibility?: 'private' | 'organization' } = {},
): Promise<{ id: string }> {
  const id = newId('document');
  const bytes = pdf();
  const key = originalKey(orgId, id);
  await env.FILES.put(key, bytes);
  await testDb()
    .insert(documents)
    .values({
      id,
      orgId,
      title: options.title ?? 'Inserted document',
      uploadedBy: options.uploadedBy ?? 'system',
      visibility: options.visibility ?? 'organization',
      fileName: 'inserted.pdf',
      contentType: 'application/pdf',
      sizeBytes: bytes.length,
      sha256: await sha256(bytes),
      r2Key: key,
    });
  return { id };
}
