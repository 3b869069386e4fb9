/**
 * `Content-Disposition: attachment` for a download named `fileName` (RFC 6266): an ASCII
 * `filename` fallback (non-ASCII characters, quotes and backslashes replaced by `_`) for old
 * clients, and `filename*` with the exact name in UTF-8, percent-encoded as RFC 8187 (formerly
 * 5987) requires, which every current browser prefers.
 */
export function attachmentDisposition(fileName: string): string {
  const fallback = fileName.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const encoded = encodeURIComponent(fileName).replace(
    /['()*]/g,
    (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
