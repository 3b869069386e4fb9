/**
 * A human label for the device behind a user agent, as the sessions list shows it: "Firefox on
 * macOS", "Chrome on Android", "Safari on iOS", "curl", or "Unknown device". Deliberately small:
 * it names the browser family and the operating system, never versions (which would make every
 * update look like a new device), and recognises the common command-line and library clients by
 * their product token. A browser on an unknown system is the browser alone; a known system with
 * an unknown browser is "Browser on <system>".
 */
export function deviceLabel(userAgent: string | null | undefined): string {
  const ua = userAgent?.trim() ?? '';
  if (ua === '') return UNKNOWN_DEVICE;
  const client = CLIENTS.find(([pattern]) => pattern.test(ua));
  if (client) return client[1];
  const browser = BROWSERS.find(([pattern]) => pattern.test(ua))?.[1];
  const os = SYSTEMS.find(([pattern]) => pattern.test(ua))?.[1];
  if (browser && os) return `${browser} on ${os}`;
  if (browser) return browser;
  if (os) return `Browser on ${os}`;
  return UNKNOWN_DEVICE;
}

export const UNKNOWN_DEVICE = 'Unknown device';

/** Non-browser clients, matched on the product token that starts their user agent. */
const CLIENTS: [RegExp, string][] = [
  [/^curl\//i, 'curl'],
  [/^Wget\//i, 'Wget'],
  [/^HTTPie\//i, 'HTTPie'],
  [/^PostmanRuntime\//i, 'Postman'],
  [/^insomnia\//i, 'Insomnia'],
  [/^python-requests\//i, 'Python requests'],
  [/^python-httpx\//i, 'Python httpx'],
  [/^(Python-urllib|aiohttp)\//i, 'Python'],
  [/^(node-fetch|undici|axios|got)\b/i, 'Node.js'],
  [/^node$/i, 'Node.js'],
  [/^Go-http-client\//i, 'Go'],
  [/^okhttp\//i, 'OkHttp'],
  [/^Dart\//i, 'Dart'],
];

/**
 * Browsers, most specific first: Chromium derivatives name Chrome and Safari too, Chrome names
 * Safari, and iOS browsers carry their own tokens (CriOS, FxiOS, EdgiOS) on WebKit.
 */
const BROWSERS: [RegExp, string][] = [
  [/\bEdg(e|A|iOS)?\//, 'Edge'],
  [/\b(OPR|Opera)\//, 'Opera'],
  [/\bSamsungBrowser\//, 'Samsung Internet'],
  [/\bYaBrowser\//, 'Yandex Browser'],
  [/\bVivaldi\//, 'Vivaldi'],
  [/\b(Firefox|FxiOS)\//, 'Firefox'],
  [/\b(Chrome|CriOS|Chromium)\//, 'Chrome'],
  [/\bVersion\/[\d.]+.*\bSafari\//, 'Safari'],
  [/\bAppleWebKit\/.*\bMobile\//, 'Safari'],
];

/** Operating systems, most specific first (Android and ChromeOS say "Linux"; iOS says "Mac OS X"). */
const SYSTEMS: [RegExp, string][] = [
  [/\b(iPhone|iPad|iPod)\b/, 'iOS'],
  [/\bAndroid\b/, 'Android'],
  [/\bCrOS\b/, 'ChromeOS'],
  [/\bWindows\b/, 'Windows'],
  [/\bMac OS X\b|\bMacintosh\b/, 'macOS'],
  [/\bLinux\b|\bX11\b/, 'Linux'],
];
