/**
 * Documents with known text for the extraction tests, the benchmarks and the sample documents of
 * `npm run dev` (`tools/db/sample-data/documents.ts`): articles (headings, paragraphs, a list, a
 * table; the tests' own are one in English and one in Arabic) written out as txt, md, html, docx
 * (WordprocessingML zipped with fflate) and pdf (pdf-lib, one section a page; Arabic needs a font
 * with Arabic glyphs, DejaVu Sans from the system's fonts-dejavu-core), plus the files that must
 * fail: encrypted and corrupt PDFs, a scanned (image-only) PDF, truncated and bomb DOCX files.
 * `expectedText` is what a perfect extractor returns; `similarity` scores what one did.
 */
import fontkit from '@pdf-lib/fontkit';
import { zipSync } from 'fflate';
import { PDFDocument, type PDFFont, rgb, StandardFonts } from 'pdf-lib';
import type { DocumentType } from '../../shared/documents/types.ts';

export type Section = {
  heading: string;
  paragraphs: string[];
  list?: string[];
  table?: string[][];
};
export type Article = { lang: 'en' | 'ar'; title: string; sections: Section[] };

export const ENGLISH: Article = {
  lang: 'en',
  title: 'Field Notes on Coastal Water Quality',
  sections: [
    {
      heading: 'Why the survey was run',
      paragraphs: [
        'The harbour authority asked for a survey after two summers of algal blooms closed the eastern beaches for most of August. The survey covered eleven sites along the bay and ran for fourteen weeks, from early May to the middle of August.',
        'Each site was sampled twice a week at the same hour, so that tides and daylight would not explain the differences between sites. Samples were kept cold and reached the laboratory within six hours.',
      ],
      list: [
        'Dissolved oxygen, measured on site with a calibrated probe.',
        'Nitrate and phosphate, measured in the laboratory.',
        'Chlorophyll, as a proxy for the mass of algae in the water.',
      ],
    },
    {
      heading: 'What the samples showed',
      paragraphs: [
        'Nitrate levels near the river mouth were three times those of the open bay, and they rose sharply after every heavy rain. The sites furthest from the river stayed within the limits for the whole season.',
        'Oxygen fell below the safe level at four sites in late July, each time after several calm, hot days. Where the water was mixed by wind or current, oxygen recovered within a day.',
      ],
      table: [
        ['Site', 'Nitrate (mg/l)', 'Oxygen (mg/l)'],
        ['River mouth', '4.2', '5.1'],
        ['Open bay', '1.3', '7.8'],
        ['East beach', '2.6', '6.0'],
      ],
    },
    {
      heading: 'What should happen next',
      paragraphs: [
        'The report recommends treating the runoff from the farms upstream before it reaches the river, and repeating the survey next summer with two more sites near the eastern beaches. Does the harbour need a permanent monitoring station? The authors think it does, and they explain why in the appendix.',
      ],
    },
  ],
};

export const ARABIC: Article = {
  lang: 'ar',
  title: 'ملاحظات ميدانية عن جودة المياه الساحلية',
  sections: [
    {
      heading: 'لماذا أجري المسح',
      paragraphs: [
        'طلبت هيئة الميناء إجراء مسح بعد صيفين من تكاثر الطحالب أغلقا الشواطئ الشرقية معظم شهر أغسطس. شمل المسح إحدى عشرة نقطة على امتداد الخليج واستمر أربعة عشر أسبوعا من بداية مايو حتى منتصف أغسطس.',
        'أخذت العينات من كل نقطة مرتين في الأسبوع في الساعة نفسها، حتى لا يفسر المد والجزر وضوء النهار الفروق بين النقاط. حفظت العينات باردة ووصلت إلى المختبر خلال ست ساعات.',
      ],
      list: [
        'الأكسجين المذاب، ويقاس في الموقع بمسبار معاير.',
        'النترات والفوسفات، وتقاس في المختبر.',
        'الكلوروفيل، مؤشرا على كتلة الطحالب في الماء.',
      ],
    },
    {
      heading: 'ماذا أظهرت العينات',
      paragraphs: [
        'كانت مستويات النترات قرب مصب النهر ثلاثة أضعاف مستوياتها في الخليج المفتوح، وارتفعت بشدة بعد كل مطر غزير. أما النقاط الأبعد عن النهر فبقيت ضمن الحدود طوال الموسم.',
        'انخفض الأكسجين دون المستوى الآمن في أربع نقاط في أواخر يوليو، وكان ذلك كل مرة بعد أيام هادئة حارة. وحيث كانت المياه تختلط بفعل الرياح أو التيار عاد الأكسجين خلال يوم واحد.',
      ],
      table: [
        ['النقطة', 'النترات', 'الأكسجين'],
        ['مصب النهر', 'مرتفعة', 'منخفض'],
        ['الخليج المفتوح', 'منخفضة', 'مرتفع'],
        ['الشاطئ الشرقي', 'متوسطة', 'متوسط'],
      ],
    },
    {
      heading: 'ما الذي ينبغي فعله بعد ذلك',
      paragraphs: [
        'يوصي التقرير بمعالجة مياه الصرف القادمة من المزارع قبل أن تصل إلى النهر، وبتكرار المسح في الصيف المقبل مع نقطتين إضافيتين قرب الشواطئ الشرقية. هل يحتاج الميناء إلى محطة رصد دائمة؟ يرى المؤلفون ذلك، ويشرحون السبب في الملحق.',
      ],
    },
  ],
};

export const ARTICLES = [ENGLISH, ARABIC] as const;

/** The blocks a perfect extractor finds, in order: `[kind, text, level?]`. */
export function expectedBlocks(article: Article): { kind: string; text: string; level?: number }[] {
  const blocks: { kind: string; text: string; level?: number }[] = [
    { kind: 'heading', text: article.title, level: 1 },
  ];
  for (const section of article.sections) {
    blocks.push({ kind: 'heading', text: section.heading, level: 2 });
    for (const p of section.paragraphs) blocks.push({ kind: 'paragraph', text: p });
    for (const item of section.list ?? []) blocks.push({ kind: 'list_item', text: item, level: 1 });
    if (section.table)
      blocks.push({ kind: 'table', text: section.table.map((r) => r.join(' | ')).join('\n') });
  }
  return blocks;
}

/** The article's text as `extractDocument` should give it. */
export const expectedText = (article: Article) =>
  expectedBlocks(article)
    .map((b) => b.text)
    .join('\n\n');

/**
 * Character-level similarity after white space is normalised (runs collapsed to one space,
 * trimmed): 1 − Levenshtein distance / the longer length. 1 is identical.
 */
export function similarity(a: string, b: string): number {
  const x = a.replace(/\s+/gu, ' ').trim();
  const y = b.replace(/\s+/gu, ' ').trim();
  if (x.length === 0 && y.length === 0) return 1;
  let previous = new Uint32Array(y.length + 1).map((_, j) => j);
  let current = new Uint32Array(y.length + 1);
  for (let i = 1; i <= x.length; i++) {
    current[0] = i;
    const cx = x.charCodeAt(i - 1);
    for (let j = 1; j <= y.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (cx === y.charCodeAt(j - 1) ? 0 : 1);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
    }
    [previous, current] = [current, previous];
  }
  return 1 - (previous[y.length] ?? 0) / Math.max(x.length, y.length);
}

const encoder = new TextEncoder();

export const txtFixture = (article: Article) =>
  encoder.encode(
    [
      article.title,
      ...article.sections.flatMap((s) => [
        s.heading,
        ...s.paragraphs,
        ...(s.list ?? []),
        ...(s.table ?? []).map((r) => r.join(' | ')),
      ]),
    ]
      .join('\n\n')
      .concat('\n'),
  );

export function mdFixture(article: Article): Uint8Array {
  const lines = [`# ${article.title}`, ''];
  for (const s of article.sections) {
    lines.push(`## ${s.heading}`, '');
    for (const p of s.paragraphs) lines.push(p, '');
    if (s.list) lines.push(...s.list.map((i) => `- ${i}`), '');
    if (s.table) {
      const [head = [], ...rows] = s.table;
      lines.push(
        `| ${head.join(' | ')} |`,
        `|${head.map(() => ' --- ').join('|')}|`,
        ...rows.map((r) => `| ${r.join(' | ')} |`),
        '',
      );
    }
  }
  return encoder.encode(lines.join('\n'));
}

const escapeHtml = (text: string) =>
  text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');

export function htmlFixture(article: Article): Uint8Array {
  const dir = article.lang === 'ar' ? 'rtl' : 'ltr';
  const body = [`<h1>${escapeHtml(article.title)}</h1>`];
  for (const s of article.sections) {
    body.push(`<section>\n  <h2>${escapeHtml(s.heading)}</h2>`);
    // Entities and inline markup the extractor must see through.
    for (const p of s.paragraphs) {
      const [first = '', ...rest] = p.split(' ');
      body.push(
        `  <p><strong>${escapeHtml(first)}</strong>&#32;${escapeHtml(rest.join(' ')).replaceAll(', ', ',&nbsp;')}</p>`,
      );
    }
    if (s.list)
      body.push(
        `  <ul>\n${s.list.map((i) => `    <li>${escapeHtml(i)}</li>`).join('\n')}\n  </ul>`,
      );
    if (s.table) {
      const [head = [], ...rows] = s.table;
      body.push(
        `  <table>\n    <thead><tr>${head.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr></thead>\n    <tbody>\n${rows
          .map((r) => `      <tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`)
          .join('\n')}\n    </tbody>\n  </table>`,
      );
    }
    body.push('</section>');
  }
  return encoder.encode(
    `<!doctype html>\n<html lang="${article.lang}" dir="${dir}">\n<head><meta charset="utf-8"><title>${escapeHtml(article.title)}</title>\n<style>body { font: 16px serif }</style></head>\n<body>\n<!-- navigation removed -->\n${body.join('\n')}\n<script>console.log("not text")</script>\n</body>\n</html>\n`,
  );
}

const W = 'http://schemas.openxmlformats.org/wordprocessingml/2006/main';
const escapeXml = escapeHtml;

/** A DOCX file's parts, `document.xml` written as Word writes it (styles, numbering, bidi). */
export function docxParts(article: Article): Record<string, Uint8Array> {
  const rtl = article.lang === 'ar';
  const run = (text: string) =>
    `<w:r>${rtl ? '<w:rPr><w:rtl/></w:rPr>' : ''}<w:t xml:space="preserve">${escapeXml(text)}</w:t></w:r>`;
  // Word splits a paragraph's text into runs at formatting changes: the extractor must join them.
  const runs = (text: string) => {
    const middle = text.indexOf(' ', Math.floor(text.length / 2));
    return middle < 0 ? run(text) : run(text.slice(0, middle + 1)) + run(text.slice(middle + 1));
  };
  const pPr = (inner: string) => `<w:pPr>${inner}${rtl ? '<w:bidi/>' : ''}</w:pPr>`;
  const paragraphs = [`<w:p>${pPr('<w:pStyle w:val="Title"/>')}${run(article.title)}</w:p>`];
  for (const s of article.sections) {
    paragraphs.push(`<w:p>${pPr('<w:pStyle w:val="Heading1"/>')}${run(s.heading)}</w:p>`);
    for (const p of s.paragraphs) paragraphs.push(`<w:p>${pPr('')}${runs(p)}</w:p>`);
    for (const item of s.list ?? []) {
      paragraphs.push(
        `<w:p>${pPr('<w:pStyle w:val="ListParagraph"/><w:numPr><w:ilvl w:val="0"/><w:numId w:val="1"/></w:numPr>')}${run(item)}</w:p>`,
      );
    }
    if (s.table) {
      paragraphs.push(
        `<w:tbl><w:tblPr><w:tblStyle w:val="TableGrid"/>${rtl ? '<w:bidiVisual/>' : ''}</w:tblPr>${s.table
          .map(
            (r) =>
              `<w:tr>${r.map((c) => `<w:tc><w:tcPr><w:tcW w:w="2000" w:type="dxa"/></w:tcPr><w:p>${run(c)}</w:p></w:tc>`).join('')}</w:tr>`,
          )
          .join('')}</w:tbl>`,
      );
    }
  }
  const document = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w="${W}"><w:body>${paragraphs.join('\n')}<w:sectPr><w:pgSz w:w="11906" w:h="16838"/></w:sectPr></w:body></w:document>`;
  const styles = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:styles xmlns:w="${W}"><w:style w:type="paragraph" w:styleId="Title"><w:name w:val="Title"/></w:style><w:style w:type="paragraph" w:styleId="Heading1"><w:name w:val="heading 2"/></w:style><w:style w:type="paragraph" w:styleId="ListParagraph"><w:name w:val="List Paragraph"/></w:style></w:styles>`;
  return {
    '[Content_Types].xml': encoder.encode(
      '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
    ),
    '_rels/.rels': encoder.encode(
      '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
    ),
    'word/document.xml': encoder.encode(document),
    'word/styles.xml': encoder.encode(styles),
  };
}

/** Files' times in the fixtures: fixed, so that the same article makes the same bytes. */
const FIXED_TIME = new Date('2026-01-01T00:00:00Z');

export const docxFixture = (article: Article) =>
  zipSync(docxParts(article), { level: 6, mtime: FIXED_TIME });

/**
 * A DOCX whose document.xml inflates to `megabytes` MiB of one repeated letter (about 1000:1).
 * `lie`: the ZIP headers declare 1 KiB uncompressed, so only counting the inflated bytes stops it.
 */
export function docxBomb(megabytes: number, lie = false): Uint8Array {
  const head = encoder.encode(
    `<?xml version="1.0"?><w:document xmlns:w="${W}"><w:body><w:p><w:r><w:t>`,
  );
  const xml = new Uint8Array(megabytes * 1024 * 1024).fill(0x61);
  xml.set(head);
  const zip = zipSync({ 'word/document.xml': [xml, { level: 1 }] });
  if (lie) {
    const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
    for (let i = 0; i + 4 <= zip.length; i++) {
      const signature = view.getUint32(i, true);
      if (signature === 0x04034b50) view.setUint32(i + 22, 1024, true);
      if (signature === 0x02014b50) view.setUint32(i + 24, 1024, true);
    }
  }
  return zip;
}

/** The lines of `text` that fit `width` points at `size` in `font`, words kept whole. */
function wrap(text: string, font: PDFFont, size: number, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    const candidate = line === '' ? word : `${line} ${word}`;
    if (line !== '' && font.widthOfTextAtSize(candidate, size) > width) {
      lines.push(line);
      line = word;
    } else line = candidate;
  }
  if (line !== '') lines.push(line);
  return lines;
}

/**
 * The article as a PDF: the title and first section on page 1, each further section on a page
 * of its own; paragraphs wrapped to the page, Arabic right-aligned (fontkit shapes it and lays it
 * out right to left, as word processors do). `font`: the TrueType bytes to embed, required for
 * Arabic; English uses Helvetica without it.
 */
export async function pdfFixture(article: Article, font?: Uint8Array): Promise<Uint8Array> {
  const pdf = await PDFDocument.create();
  pdf.setCreationDate(FIXED_TIME);
  pdf.setModificationDate(FIXED_TIME);
  pdf.registerFontkit(fontkit);
  if (article.lang === 'ar' && font === undefined)
    throw new Error('An Arabic PDF needs a font with Arabic glyphs.');
  const face = font
    ? await pdf.embedFont(font, { subset: true })
    : await pdf.embedFont(StandardFonts.Helvetica);
  const [width, height, margin] = [595, 842, 56];
  const rtl = article.lang === 'ar';
  article.sections.forEach((section, index) => {
    const page = pdf.addPage([width, height]);
    let y = height - margin;
    const write = (text: string, size: number, gapAfter: number) => {
      for (const line of wrap(text, face, size, width - 2 * margin)) {
        const x = rtl ? width - margin - face.widthOfTextAtSize(line, size) : margin;
        page.drawText(line, { x, y, size, font: face });
        y -= size * 1.25;
      }
      y -= gapAfter;
    };
    if (index === 0) write(article.title, 20, 14);
    write(section.heading, 15, 10);
    for (const p of section.paragraphs) write(p, 11, 12);
    for (const item of section.list ?? []) write(item, 11, 12);
    if (section.table) for (const row of section.table) write(row.join(' | '), 11, 12);
  });
  return pdf.save({ useObjectStreams: false });
}

/** A PDF of two pages of drawn shapes and no text at all: what a scanner without OCR gives. */
export async function scannedPdfFixture(): Promise<Uint8Array> {
  const pdf = await PDFDocument.create();
  for (let n = 0; n < 2; n++) {
    const page = pdf.addPage([595, 842]);
    for (let line = 0; line < 30; line++) {
      page.drawRectangle({
        x: 56,
        y: 780 - line * 22,
        width: 300 + ((line * 37) % 180),
        height: 9,
        color: rgb(0.2, 0.2, 0.2),
      });
    }
  }
  return pdf.save({ useObjectStreams: false });
}

/**
 * `pdf` with a standard security handler (RC4 128-bit) in its trailer whose owner and user
 * entries match no password: PDF.js must ask for one. pdf-lib cannot encrypt, so the /Encrypt
 * dictionary is written into the trailer by hand (the cross-reference table is before it, so no
 * offset moves).
 */
export function encryptedPdf(pdf: Uint8Array): Uint8Array {
  // Byte for character (Latin-1 proper, not the decoder's windows-1252): offsets stay byte offsets.
  let text = '';
  for (const byte of pdf) text += String.fromCharCode(byte);
  const at = text.lastIndexOf('trailer');
  if (at < 0) throw new Error('No classic trailer: save with useObjectStreams: false.');
  const hex = (n: number, seed: number) =>
    Array.from({ length: n }, (_, i) => ((i * 37 + seed) % 256).toString(16).padStart(2, '0')).join(
      '',
    );
  const encrypt = `/Encrypt << /Filter /Standard /V 2 /R 3 /Length 128 /P -3904 /O <${hex(32, 11)}> /U <${hex(32, 99)}> >>\n/ID [<${hex(16, 5)}> <${hex(16, 5)}>]\n`;
  const dict = text.indexOf('<<', at) + 2;
  const out = `${text.slice(0, dict)}\n${encrypt}${text.slice(dict)}`;
  return Uint8Array.from(out, (c) => c.charCodeAt(0));
}

/** `article` as a file of `type` (an Arabic PDF needs `font`, a font with Arabic glyphs). */
export async function fixtureOf(
  type: DocumentType,
  article: Article,
  font?: Uint8Array,
): Promise<Uint8Array> {
  switch (type) {
    case 'txt':
      return txtFixture(article);
    case 'md':
      return mdFixture(article);
    case 'html':
      return htmlFixture(article);
    case 'docx':
      return docxFixture(article);
    case 'pdf':
      return pdfFixture(article, font);
  }
}
