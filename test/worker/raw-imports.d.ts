/** A file's text, imported with Vite's `?raw` suffix (tests that check what the README says). */
declare module '*?raw' {
  const text: string;
  export default text;
}

/** A file as a base64 `data:` URL, imported with Vite's `?inline` suffix (binary fixtures). */
declare module '*?inline' {
  const dataUrl: string;
  export default dataUrl;
}
