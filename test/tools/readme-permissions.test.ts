import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Permission, ROLE_PERMISSIONS, ROLES } from '../../shared/auth/permissions.ts';

const README = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');

/** The README's permission matrix as (role → permissions), read from its markdown table. */
function readmeMatrix(): Record<string, string[]> {
  const block = /<!-- permission-matrix[^>]*-->([\s\S]*?)<!-- \/permission-matrix -->/.exec(README);
  if (!block) throw new Error('README has no permission matrix');
  const rows = block[1]!
    .trim()
    .split('\n')
    .map((line) =>
      line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim()),
    );
  const [header, , ...body] = rows;
  const roles = header!.slice(1).map((cell) => cell.replaceAll('`', ''));
  const matrix: Record<string, string[]> = Object.fromEntries(roles.map((r) => [r, []]));
  for (const row of body) {
    const permission = row[0]!.replaceAll('`', '');
    row.slice(1).forEach((cell, i) => {
      if (cell === '✓') matrix[roles[i]!]!.push(permission);
    });
  }
  return matrix;
}

describe('the README permission matrix', () => {
  it('lists every permission for every role exactly as the code grants them', () => {
    const matrix = readmeMatrix();
    const expected: Record<string, string[]> = {
      ...Object.fromEntries(ROLES.map((role) => [role, [...ROLE_PERMISSIONS[role]].sort()])),
      'super admin': [...Permission.options].sort(),
    };
    expect(Object.fromEntries(Object.entries(matrix).map(([r, ps]) => [r, ps.sort()]))).toEqual(
      expected,
    );
  });
});
