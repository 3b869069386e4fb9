/** A file's text, imported with Vite's `?raw` suffix (tests that check what the README says). */
declare module '*?raw' {
  const text: string;
  export default text;
}
