import { copyFileSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Copies the files the Worker serves as static assets out of node_modules into public/ (which
 * wrangler.toml's `[assets]` serves): today the API reference's script, so /docs needs no CDN.
 * Runs on `npm install` (postinstall) and before `npm run dev`; cheap when nothing changed.
 */
const root = join(import.meta.dirname, '..');

const ASSETS = [
  {
    // The package's exports map hides dist/browser, so the file is addressed in node_modules.
    from: join(root, 'node_modules/@scalar/api-reference/dist/browser/standalone.js'),
    to: join(root, 'public/docs/assets/scalar.js'),
  },
];

export function buildAssets(): string[] {
  const copied: string[] = [];
  for (const { from, to } of ASSETS) {
    const source = statSync(from);
    let current: ReturnType<typeof statSync> | undefined;
    try {
      current = statSync(to);
    } catch {}
    if (current && current.size === source.size && current.mtimeMs >= source.mtimeMs) continue;
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(from, to);
    copied.push(to);
  }
  return copied;
}

if (import.meta.main) {
  const copied = buildAssets();
  if (copied.length > 0)
    console.log(`assets: copied ${copied.map((p) => p.slice(root.length + 1)).join(', ')}`);
}
