/**
 * HTML as the content model stores text: a body is Markdown or plain text, never HTML (it is
 * rendered by clients and indexed for search as it is). Feeds carry HTML (`content:encoded`,
 * Atom `type="html"`), so it is turned into Markdown here: paragraphs, line breaks, headings,
 * lists, quotes, emphasis, code, links and images keep their meaning; scripts, styles, frames,
 * forms, comments and every other tag go, their text kept (scripts' and styles' dropped). Links
 * and images are kept only for `http`, `https` and `mailto` (a `javascript:` link keeps its text).
 * Not a sanitiser for HTML output: the result is meant to be rendered as Markdown.
 */

/** HTML 4's Latin-1 entities, for the code points 160 to 255 in order. */
const LATIN1 =
  'nbsp iexcl cent pound curren yen brvbar sect uml copy ordf laquo not shy reg macr deg plusmn ' +
  'sup2 sup3 acute micro para middot cedil sup1 ordm raquo frac14 frac12 frac34 iquest Agrave ' +
  'Aacute Acirc Atilde Auml Aring AElig Ccedil Egrave Eacute Ecirc Euml Igrave Iacute Icirc Iuml ' +
  'ETH Ntilde Ograve Oacute Ocirc Otilde Ouml times Oslash Ugrave Uacute Ucirc Uuml Yacute THORN ' +
  'szlig agrave aacute acirc atilde auml aring aelig ccedil egrave eacute ecirc euml igrave ' +
  'iacute icirc iuml eth ntilde ograve oacute ocirc otilde ouml divide oslash ugrave uacute ucirc ' +
  'uuml yacute thorn yuml';

const ENTITIES: Record<string, number> = {
  amp: 38,
  lt: 60,
  gt: 62,
  quot: 34,
  apos: 39,
  OElig: 338,
  oelig: 339,
  Scaron: 352,
  scaron: 353,
  Yuml: 376,
  fnof: 402,
  circ: 710,
  tilde: 732,
  ensp: 8194,
  emsp: 8195,
  thinsp: 8201,
  zwnj: 8204,
  zwj: 8205,
  lrm: 8206,
  rlm: 8207,
  ndash: 8211,
  mdash: 8212,
  lsquo: 8216,
  rsquo: 8217,
  sbquo: 8218,
  ldquo: 8220,
  rdquo: 8221,
  bdquo: 8222,
  dagger: 8224,
  Dagger: 8225,
  bull: 8226,
  hellip: 8230,
  permil: 8240,
  prime: 8242,
  Prime: 8243,
  lsaquo: 8249,
  rsaquo: 8250,
  euro: 8364,
  trade: 8482,
  larr: 8592,
  uarr: 8593,
  rarr: 8594,
  darr: 8595,
  harr: 8596,
};
LATIN1.split(' ').forEach((name, i) => {
  ENTITIES[name] = 160 + i;
});

/** A code point a character reference may stand for (not NUL, a surrogate or beyond Unicode). */
const validCodePoint = (n: number) =>
  Number.isInteger(n) && n > 0 && n <= 0x10ffff && !(n >= 0xd800 && n <= 0xdfff);

/**
 * `text` with its HTML character references decoded: numeric ones (`&#8217;`, `&#x2019;`) and
 * the named ones of HTML 4 (`&amp;`, `&nbsp;`, `&eacute;`…). Unknown names and references to
 * code points that cannot be stored (NUL, surrogates) stay as written.
 */
export function decodeEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(
    /&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,7});/g,
    (ref, body: string) => {
      let code: number | undefined;
      if (body.startsWith('#x') || body.startsWith('#X')) code = Number.parseInt(body.slice(2), 16);
      else if (body.startsWith('#')) code = Number(body.slice(1));
      else code = ENTITIES[body];
      return code !== undefined && validCodePoint(code) ? String.fromCodePoint(code) : ref;
    },
  );
}

/** Elements dropped with everything in them. */
const DROPPED =
  /<(script|style|noscript|iframe|object|embed|template|svg|math|head|select|textarea)\b[^>]*>[\s\S]*?<\/\1\s*>/gi;
/** Elements that start a block (a paragraph break around them). */
const BLOCKS = new Set([
  'p',
  'div',
  'section',
  'article',
  'aside',
  'header',
  'footer',
  'nav',
  'main',
  'figure',
  'figcaption',
  'table',
  'thead',
  'tbody',
  'tr',
  'dl',
  'dt',
  'dd',
  'address',
  'details',
  'summary',
  'center',
]);

const SAFE_URL = /^(https?:|mailto:)/i;

/** Markdown's own characters in text, escaped so they stay text. */
const escapeMarkdown = (text: string) => text.replace(/([\\`*_[\]])/g, '\\$1');

function attribute(attributes: string, name: string): string | undefined {
  const match = new RegExp(
    `(?:^|\\s)${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s"'>]+))`,
    'i',
  ).exec(attributes);
  if (!match) return undefined;
  return decodeEntities(match[1] ?? match[2] ?? match[3] ?? '').trim();
}

/**
 * `html` as Markdown (see the module's comment). `base` resolves relative links and images
 * (the item's link); without it, they are dropped and their text kept.
 */
export function htmlToMarkdown(html: string, base?: string): string {
  const absolute = (url: string | undefined): string | undefined => {
    if (!url) return undefined;
    let resolved: URL;
    try {
      resolved = base ? new URL(url, base) : new URL(url);
    } catch {
      return undefined;
    }
    return SAFE_URL.test(resolved.protocol)
      ? resolved.href.replaceAll('(', '%28').replaceAll(')', '%29')
      : undefined;
  };
  const source = html.replace(/<!--[\s\S]*?(-->|$)/g, '').replace(DROPPED, '');
  let out = '';
  // Breaks are owed, not written, until text follows: white space between blocks and empty
  // elements then make no empty lines, and a quote's lines get their `>` when they start.
  let pending: 'none' | 'line' | 'block' = 'none';
  let quote = 0;
  /** The quote level of the line written last. */
  let written = 0;
  const owe = (brk: 'line' | 'block') => {
    if (pending !== 'block') pending = brk;
  };
  const emit = (text: string) => {
    if (out === '') out = '> '.repeat(quote);
    else if (pending !== 'none') {
      out = out.replace(/[ \t]+$/, '');
      // The blank line between two blocks belongs to the outer of their quote levels.
      if (pending === 'block') out += `\n${'> '.repeat(Math.min(written, quote)).trimEnd()}`;
      out += `\n${'> '.repeat(quote)}`;
    }
    pending = 'none';
    written = quote;
    out += text;
  };
  const links: (string | null)[] = [];
  const lists: { ordered: boolean; n: number }[] = [];
  let pre = 0;
  const token = /<(\/?)([A-Za-z][A-Za-z0-9]*)\b((?:[^>"']|"[^"]*"|'[^']*')*)>|([^<]+)|</g;
  for (const match of source.matchAll(token)) {
    const [whole, closing, rawName, attributes = '', text] = match;
    if (text !== undefined || rawName === undefined) {
      const decoded = decodeEntities(text ?? whole);
      if (pre > 0) {
        emit(decoded.replaceAll('\n', `\n${'> '.repeat(quote)}`));
        continue;
      }
      // HTML's white space only: a no-break space (`&nbsp;`) is text.
      const collapsed = decoded.replace(/[ \t\n\r\f]+/g, ' ');
      const lineStart = pending !== 'none' || out === '' || /(^|\n)(> )*$/.test(out);
      if (lineStart && collapsed.trim() === '') continue;
      emit(escapeMarkdown(lineStart ? collapsed.trimStart() : collapsed));
      continue;
    }
    const name = rawName.toLowerCase();
    const close = closing === '/';
    if (BLOCKS.has(name)) {
      owe('block');
      continue;
    }
    switch (name) {
      case 'br':
        owe('line');
        break;
      case 'hr':
        owe('block');
        emit('---');
        owe('block');
        break;
      case 'h1':
      case 'h2':
      case 'h3':
      case 'h4':
      case 'h5':
      case 'h6':
        owe('block');
        if (!close) emit(`${'#'.repeat(Number(name[1]))} `);
        break;
      case 'ul':
      case 'ol':
        if (close) lists.pop();
        else lists.push({ ordered: name === 'ol', n: 0 });
        // A nested list continues its item's list; the outermost one is a block.
        owe(lists.length > (close ? 0 : 1) ? 'line' : 'block');
        break;
      case 'li': {
        if (close) break;
        const list = lists.at(-1);
        owe('line');
        const indent = '  '.repeat(Math.max(0, lists.length - 1));
        emit(list?.ordered ? `${indent}${++list.n}. ` : `${indent}- `);
        break;
      }
      case 'blockquote':
        owe('block');
        quote = close ? Math.max(0, quote - 1) : quote + 1;
        break;
      case 'pre':
        owe('block');
        if (close) {
          pre = Math.max(0, pre - 1);
          out = out.replace(/\n*$/, '');
          pending = 'line';
          emit('```');
          owe('block');
        } else {
          pre++;
          emit('```');
          pending = 'line';
        }
        break;
      case 'code':
        if (pre === 0) emit('`');
        break;
      case 'strong':
      case 'b':
        emit('**');
        break;
      case 'em':
      case 'i':
        emit('_');
        break;
      case 'a':
        if (close) {
          const href = links.pop();
          if (href) emit(`](${href})`);
        } else {
          const href = absolute(attribute(attributes, 'href')) ?? null;
          links.push(href);
          if (href) emit('[');
        }
        break;
      case 'img': {
        const src = absolute(attribute(attributes, 'src'));
        if (src) emit(`![${escapeMarkdown(attribute(attributes, 'alt') ?? '')}](${src})`);
        break;
      }
      default:
        // Any other tag (span, font, abbr, table cells…) goes; its text stays.
        if ((name === 'td' || name === 'th') && !close) emit(' ');
    }
  }
  // An unclosed link still closes.
  for (const href of links.reverse()) if (href) out += `](${href})`;
  return out
    .split('\n')
    .map((line) => line.replace(/[ \t]+$/, ''))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** `html` as one line of plain text: tags gone, entities decoded, whitespace collapsed. */
export function htmlToText(html: string): string {
  return decodeEntities(
    html
      .replace(/<!--[\s\S]*?(-->|$)/g, '')
      .replace(DROPPED, '')
      .replace(/<\/?[A-Za-z][^>]*>/g, ' '),
  )
    .replace(/[ \t\n\r\f]+/g, ' ')
    .trim();
}
