import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../../../workers/api/index.ts';
import { call } from '../../helpers.ts';

type Document = {
  openapi: string;
  info: { description: string };
  servers: { url: string }[];
  tags: { name: string; description: string }[];
  'x-tagGroups': { name: string; tags: string[] }[];
  paths: Record<
    string,
    Record<string, { responses: Record<string, unknown>; summary?: string; tags?: string[] }>
  >;
  components: { schemas: Record<string, unknown> };
};

const HTTP_METHODS = ['get', 'post', 'put', 'patch', 'delete', 'head', 'options'];

describe('GET /openapi.json', () => {
  it('is an OpenAPI 3.1 document with the problem schema', async () => {
    const response = await call('/openapi.json');
    expect(response.status).toBe(200);
    const document = (await response.json()) as Document;
    expect(document.openapi).toBe('3.1.0');
    expect(document.components.schemas.Problem).toBeDefined();
  });

  it('documents every registered route, and nothing that is not registered', async () => {
    const document = (await (await call('/openapi.json')).json()) as Document;
    const registered = createApp()
      // QStash's callback (`/internal/…`) is not part of the public API: hidden from the document.
      .routes.filter((route) => route.method !== 'ALL' && !route.path.startsWith('/internal/'))
      .map((route) => `${route.method.toLowerCase()} ${route.path.replace(/:(\w+)/g, '{$1}')}`);
    const documented = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((method) => HTTP_METHODS.includes(method))
        .map((method) => `${method} ${path}`),
    );
    expect(registered.length).toBeGreaterThan(0);
    expect([...new Set(registered)].sort()).toEqual(documented.sort());
  });

  it('gives every operation a summary, a success response and the 500 problem', async () => {
    const document = (await (await call('/openapi.json')).json()) as Document;
    for (const [path, item] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        expect(operation.summary, `${method} ${path}`).toBeTruthy();
        expect(
          Object.keys(operation.responses).some((s) => s.startsWith('2')),
          `${method} ${path}`,
        ).toBe(true);
        expect(operation.responses['500'], `${method} ${path}`).toBeDefined();
      }
    }
  });

  it('names this deployment as its server, and tells a reader how to get a token', async () => {
    const document = (await (await call('/openapi.json')).json()) as Document;
    expect(document.servers).toEqual([{ url: env.AUTH_ISSUER, description: 'This deployment' }]);
    expect(document.info.description).toContain('## Getting a token');
    expect(document.info.description).toContain('/v1/auth/login');
    expect(document.info.description).toContain('Authorization: Bearer');
  });

  it('describes every tag an operation uses, and puts each in exactly one group', async () => {
    const document = (await (await call('/openapi.json')).json()) as Document;
    const used = new Set(
      Object.values(document.paths).flatMap((item) =>
        Object.values(item).flatMap((operation) => operation.tags ?? []),
      ),
    );
    const described = document.tags.map((t) => t.name);
    expect([...used].sort()).toEqual([...described].sort());
    for (const tag of document.tags) expect(tag.description, tag.name).toBeTruthy();
    const grouped = document['x-tagGroups'].flatMap((g) => g.tags);
    expect([...grouped].sort()).toEqual([...described].sort());
  });
});

describe('GET /docs', () => {
  it('renders the reference from the local script and the local document, nothing from a CDN', async () => {
    const response = await call('/docs');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
    const html = await response.text();
    expect(html).toContain('/docs/assets/scalar.js');
    expect(html).toContain('/openapi.json');
    const external = [...html.matchAll(/(?:src|href)=["'](https?:\/\/[^"']+)/g)].map((m) => m[1]);
    expect(external).toEqual([]);
  });

  it("turns off the buttons that need Scalar's cloud", async () => {
    const html = (await (await call('/docs')).text()).replace(/\s+/g, '');
    expect(html).toContain('"agent":{"disabled":true}');
    expect(html).toContain('"mcp":{"disabled":true}');
    expect(html).toContain('"showDeveloperTools":"never"');
  });
});
