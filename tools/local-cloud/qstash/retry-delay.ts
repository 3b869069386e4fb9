import { fail, ok, type Parsed } from './errors.ts';

const DAY_MS = 86_400_000;

/**
 * QStash's default backoff (upstash.com/docs/qstash/features/retry): before retry `n` (1 for the
 * first retry) it waits `min(86400, e ** (2.5 * n))` seconds, i.e. 12s, 2m28s, 30m8s, 6h7m6s, 24h.
 */
export function defaultRetryBackoff(attempt: number): number {
  return Math.min(86_400, Math.exp(2.5 * attempt)) * 1000;
}

type Fn = (...args: number[]) => number;

// The functions `Upstash-Retry-Delay` may call, with their arity.
const FUNCTIONS: Record<string, [number, Fn]> = {
  pow: [2, (a, b) => (a ?? 0) ** (b ?? 0)],
  exp: [1, (a) => Math.exp(a ?? 0)],
  sqrt: [1, (a) => Math.sqrt(a ?? 0)],
  abs: [1, (a) => Math.abs(a ?? 0)],
  floor: [1, (a) => Math.floor(a ?? 0)],
  ceil: [1, (a) => Math.ceil(a ?? 0)],
  round: [1, (a) => Math.round(a ?? 0)],
  min: [2, (a, b) => Math.min(a ?? 0, b ?? 0)],
  max: [2, (a, b) => Math.max(a ?? 0, b ?? 0)],
};

/** A compiled `Upstash-Retry-Delay` expression: milliseconds as a function of `retried` (0 first). */
export type RetryDelay = (retried: number) => number;

/**
 * Compiles an `Upstash-Retry-Delay` expression such as `pow(2, retried) * 1000`: numbers, the
 * variable `retried`, `+ - * / %`, parentheses and the documented functions. A small parser rather
 * than `eval`, because the text comes from whoever holds the token.
 */
export function compileRetryDelay(source: string): Parsed<RetryDelay> {
  const tokens = source.match(/\d+(?:\.\d+)?|[A-Za-z_]\w*|[-+*/%(),]|\S/g) ?? [];
  let pos = 0;
  const peek = () => tokens[pos];
  const take = () => tokens[pos++];

  type Node = (retried: number) => number;
  const expression = (): Node => {
    let left = term();
    while (peek() === '+' || peek() === '-') {
      const op = take();
      const right = term();
      const l = left;
      left = op === '+' ? (r) => l(r) + right(r) : (r) => l(r) - right(r);
    }
    return left;
  };
  const term = (): Node => {
    let left = unary();
    while (peek() === '*' || peek() === '/' || peek() === '%') {
      const op = take();
      const right = unary();
      const l = left;
      if (op === '*') left = (r) => l(r) * right(r);
      else if (op === '/') left = (r) => l(r) / right(r);
      else left = (r) => l(r) % right(r);
    }
    return left;
  };
  const unary = (): Node => {
    if (peek() === '-') {
      take();
      const inner = unary();
      return (r) => -inner(r);
    }
    if (peek() === '+') take();
    return primary();
  };
  const primary = (): Node => {
    const token = take();
    if (token === undefined) throw new Error('unexpected end of expression');
    if (/^\d/.test(token)) {
      const value = Number(token);
      return () => value;
    }
    if (token === 'retried') return (r) => r;
    if (token === '(') {
      const inner = expression();
      if (take() !== ')') throw new Error('missing )');
      return inner;
    }
    const fn = FUNCTIONS[token];
    if (fn === undefined) throw new Error(`unknown identifier ${token}`);
    if (take() !== '(') throw new Error(`expected ( after ${token}`);
    const args: Node[] = [expression()];
    while (peek() === ',') {
      take();
      args.push(expression());
    }
    if (take() !== ')') throw new Error('missing )');
    const [arity, impl] = fn;
    if (args.length !== arity) throw new Error(`${token} takes ${arity} arguments`);
    return (r) => impl(...args.map((arg) => arg(r)));
  };

  try {
    const root = expression();
    if (pos < tokens.length) throw new Error(`unexpected ${tokens[pos]}`);
    return ok((retried) => clampDelay(root(retried)));
  } catch (error) {
    return fail((error as Error).message);
  }
}

/** Delays are capped at one day, as QStash caps its own backoff. */
export function clampDelay(ms: number): number {
  if (!Number.isFinite(ms) || ms < 0) return 0;
  return Math.min(ms, DAY_MS);
}
