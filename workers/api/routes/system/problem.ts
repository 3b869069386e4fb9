import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import { accepts } from 'hono/accepts';
import { html, raw } from 'hono/html';
import { AppError, ERRORS, ErrorCode, problemType } from '../../../../shared/errors.ts';
import type { AppBindings } from '../../app.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { PROBLEM_GUIDE } from './problem-guide.ts';

const ProblemTypeSchema = z
  .object({
    type: z.string(),
    code: ErrorCode,
    status: z.number().int(),
    title: z.string(),
    description: z.string().openapi({ description: 'What the problem means.' }),
    causes: z.array(z.string()).openapi({ description: 'What typically causes it.' }),
    fix: z.array(z.string()).openapi({ description: 'How to fix it.' }),
  })
  .openapi('ProblemType');
type ProblemTypeView = z.infer<typeof ProblemTypeSchema>;

export const route = createRoute({
  method: 'get',
  path: '/problems/{code}',
  tags: ['system'],
  summary: 'Describe a problem type',
  description:
    "Every problem's `type` is a link here: the stable code, its HTTP status and title, what " +
    'it means, what typically causes it and how to fix it. JSON by default; an HTML page for a ' +
    'browser (`Accept: text/html`).',
  request: {
    params: z.object({
      code: z
        .string()
        .openapi({ param: { name: 'code', in: 'path' }, example: 'validation-failed' }),
    }),
  },
  responses: {
    200: {
      description: 'The problem type.',
      content: {
        'application/json': { schema: ProblemTypeSchema },
        'text/html': { schema: z.string() },
      },
    },
    ...problemResponses('NOT_FOUND', ...COMMON_PROBLEMS),
  },
});

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };

/** Text escaped for HTML, with `backticked` runs as code. */
const prose = (text: string) =>
  raw(
    text
      .replace(/[&<>"]/g, (ch) => ESCAPES[ch]!)
      .replace(/`([^`]+)`/g, (_, code: string) => `<code>${code}</code>`),
  );

const list = (items: readonly string[]) => html`<ul>
  ${items.map((item) => html`<li>${prose(item)}</li>`)}
</ul>`;

/** The page a browser gets: the same text as the JSON, with backticks shown as code. */
function page(view: ProblemTypeView) {
  return html`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${view.status} ${view.title} · Sift problem types</title></head>
<body>
<h1>${view.title}</h1>
<p><code>${view.code}</code> · HTTP ${view.status} · <code>${view.type}</code></p>
<p>${prose(view.description)}</p>
<h2>Typical causes</h2>
${list(view.causes)}
<h2>How to fix it</h2>
${list(view.fix)}
</body>
</html>`;
}

export function registerSystemProblem<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const raw = c.req.valid('param').code;
    const parsed = ErrorCode.safeParse(raw.toUpperCase().replaceAll('-', '_'));
    if (!parsed.success) {
      throw new AppError({ code: 'NOT_FOUND', message: `There is no problem type ${raw}.` });
    }
    const code = parsed.data;
    const view = ProblemTypeSchema.parse({
      type: problemType(code),
      code,
      ...ERRORS[code],
      ...PROBLEM_GUIDE[code],
    });
    c.header('Vary', 'Accept', { append: true });
    const wanted = accepts(c, {
      header: 'Accept',
      supports: ['application/json', 'text/html'],
      default: 'application/json',
    });
    if (wanted === 'text/html') return c.html(await page(view), 200);
    return c.json(view, 200);
  });
}
