/// <reference types="vite/client" />
import { describe, expect, it } from 'vitest';
import readme from '../../../README.md?raw';
import { type AuthRequirement, authRequirement } from '../../../workers/api/middleware/auth.ts';

/** Every route definition in the code, with what its `requireAuth` declares. */
function codeRoutes(): Map<string, AuthRequirement | null> {
  const modules = import.meta.glob<{
    route?: { method: string; path: string; middleware?: unknown };
  }>('../../../workers/api/routes/**/*.ts', { eager: true });
  const routes = new Map<string, AuthRequirement | null>();
  for (const module of Object.values(modules)) {
    const { route } = module;
    if (!route) continue;
    const middleware = [route.middleware ?? []].flat();
    const requirement = middleware.map(authRequirement).find((r) => r !== undefined) ?? null;
    routes.set(`${route.method.toUpperCase()} ${route.path}`, requirement);
  }
  return routes;
}

/**
 * The README's route tables (those with a `who` column) as `METHOD /path` → the `who` cell. A
 * route cell lists routes as `GET /a`, `PATCH`/`DELETE /a/{id}` (methods sharing a path),
 * `/a[/{id}]` (with and without the part) and `…/{id}` (the previous path, continued).
 */
function readmeRoutes(): Map<string, string> {
  const rows = new Map<string, string>();
  const lines = readme.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const header = cells(lines[i]!);
    if (header[0] !== 'route' || header[1] !== 'who') continue;
    for (i += 2; i < lines.length && lines[i]!.startsWith('|'); i++) {
      const [route, who] = cells(lines[i]!);
      let methods: string[] = [];
      let previous = '';
      for (const [, token] of route!.matchAll(/`([^`]+)`/g)) {
        const match = /^([A-Z]+)(?: (.+))?$/.exec(token!);
        if (!match) throw new Error(`README route cell not understood: ${route}`);
        methods.push(match[1]!);
        if (!match[2]) continue;
        const path = match[2].startsWith('…') ? previous + match[2].slice(1) : match[2];
        for (const expanded of expand(path)) {
          for (const method of methods) rows.set(`${method} ${expanded}`, who!);
        }
        previous = expand(path)[0]!;
        methods = [];
      }
    }
  }
  return rows;
}

const cells = (line: string) =>
  line
    .split('|')
    .slice(1, -1)
    .map((cell) => cell.trim());

/** `/a[/{id}]` → `/a`, `/a/{id}`. */
function expand(path: string): string[] {
  const optional = /^(.*)\[(.+)\](.*)$/.exec(path);
  return optional
    ? [`${optional[1]}${optional[3]}`, `${optional[1]}${optional[2]}${optional[3]}`]
    : [path];
}

describe('the README route tables', () => {
  const code = codeRoutes();
  const documented = readmeRoutes();

  it('list every /v1 route, and no route that does not exist', () => {
    const v1 = [...code.keys()].filter((route) => route.includes(' /v1/'));
    expect(v1.length).toBeGreaterThan(40);
    expect(v1.filter((route) => !documented.has(route))).toEqual([]);
    expect([...documented.keys()].filter((route) => !code.has(route))).toEqual([]);
  });

  // A cell that names no permission ("per action", "user"), and a route that declares none (its
  // handler decides, as for leaving an organisation), leave the rule to the handler's own tests.
  it('name, for each route, the permission its code requires', () => {
    const disagreements: string[] = [];
    for (const [route, requirement] of code) {
      const who = documented.get(route);
      const named = who && /`([a-z:]+)`/.exec(who)?.[1];
      if (!named || !requirement?.permission) continue;
      if (named !== requirement.permission) {
        disagreements.push(
          `${route}: code requires ${requirement.permission}, README says "${who}"`,
        );
      }
    }
    expect(disagreements).toEqual([]);
  });
});
