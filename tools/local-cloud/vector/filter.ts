/**
 * Upstash Vector's metadata filter language: a tokenizer, a recursive-descent parser and a
 * compiler to a predicate over a vector's metadata.
 *
 * Grammar (keywords, operators and boolean literals are case-insensitive; AND binds tighter
 * than OR):
 *
 *   filter     := or EOF
 *   or         := and ('OR' and)*
 *   and        := primary ('AND' primary)*
 *   primary    := '(' or ')' | 'HAS' 'FIELD' IDENTIFIER | 'HAS' 'NOT' 'FIELD' IDENTIFIER
 *               | IDENTIFIER condition
 *   condition  := ('=' | '!=') literal | ('<' | '<=' | '>' | '>=') NUMBER
 *               | 'NOT'? 'GLOB' STRING | 'NOT'? 'IN' '(' literal (',' literal)* ')'
 *               | 'NOT'? 'CONTAINS' literal
 *   literal    := STRING | NUMBER | BOOLEAN
 *
 * Identifiers are `[a-zA-Z_][a-zA-Z_0-9.[\]#-]*` (dotted paths with `[i]` / `[#-i]` indexes);
 * strings are single- or double-quoted with backslash escapes; booleans are `true`/`false`
 * (and, per the docs, `1`/`0` match boolean fields).
 *
 * Errors follow Upstash's (ANTLR-generated) shape, which reports a 1-based line and a 0-based
 * column: `Invalid filter. At line 1:12 token recognition error at: '['`.
 */

export type Metadata = Record<string, unknown>;
export type MetadataPredicate = (metadata: Metadata | undefined) => boolean;

export type FilterResult =
  | { ok: true; predicate: MetadataPredicate | undefined }
  | { ok: false; error: string };

/** Parses a filter. An empty or blank filter means "no filter" (`predicate` undefined). */
export function parseFilter(source: string): FilterResult {
  if (source.trim() === '') return { ok: true, predicate: undefined };
  try {
    const tokens = tokenize(source);
    const parser = new Parser(tokens);
    return { ok: true, predicate: parser.parse() };
  } catch (error) {
    if (error instanceof FilterSyntaxError) return { ok: false, error: error.message };
    throw error;
  }
}

class FilterSyntaxError extends Error {
  constructor(line: number, column: number, detail: string) {
    super(`Invalid filter. At line ${line}:${column} ${detail}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------------------------

type Kind =
  | 'IDENTIFIER'
  | 'STRING'
  | 'NUMBER'
  | 'BOOLEAN'
  | 'AND'
  | 'OR'
  | 'NOT'
  | 'IN'
  | 'GLOB'
  | 'CONTAINS'
  | 'HAS'
  | 'FIELD'
  | '='
  | '!='
  | '<'
  | '<='
  | '>'
  | '>='
  | '('
  | ')'
  | ','
  | 'EOF';

type Token = {
  kind: Kind;
  text: string;
  value?: string | number | boolean;
  line: number;
  column: number;
};

const KEYWORDS: Record<string, Kind> = {
  and: 'AND',
  or: 'OR',
  not: 'NOT',
  in: 'IN',
  glob: 'GLOB',
  contains: 'CONTAINS',
  has: 'HAS',
  field: 'FIELD',
};

// Token classes print as names, fixed tokens quoted, as ANTLR does in "expecting" sets.
const CLASSES = new Set<Kind>(['IDENTIFIER', 'STRING', 'NUMBER', 'BOOLEAN']);
function display(kind: Kind): string {
  if (kind === 'EOF') return '<EOF>';
  return CLASSES.has(kind) ? kind : `'${kind}'`;
}

const IDENT_START = /[A-Za-z_]/;
const IDENT_PART = /[A-Za-z_0-9.[\]#-]/;
const NUMBER = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/;

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const at = (start: number) => ({ line, column: start - lineStart });
  while (i < source.length) {
    const ch = source.charAt(i);
    if (ch === '\n') {
      i++;
      line++;
      lineStart = i;
      continue;
    }
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const start = i;
    if (IDENT_START.test(ch)) {
      while (i < source.length && IDENT_PART.test(source.charAt(i))) i++;
      const text = source.slice(start, i);
      const lower = text.toLowerCase();
      if (lower === 'true' || lower === 'false') {
        tokens.push({ kind: 'BOOLEAN', text, value: lower === 'true', ...at(start) });
      } else {
        tokens.push({ kind: KEYWORDS[lower] ?? 'IDENTIFIER', text, ...at(start) });
      }
      continue;
    }
    if (ch === '-' || (ch >= '0' && ch <= '9')) {
      const match = NUMBER.exec(source.slice(i));
      if (!match) throw recognitionError(source, start, start + 1, at(start));
      i += match[0].length;
      tokens.push({ kind: 'NUMBER', text: match[0], value: Number(match[0]), ...at(start) });
      continue;
    }
    if (ch === "'" || ch === '"') {
      let value = '';
      i++;
      let closed = false;
      while (i < source.length) {
        const c = source.charAt(i);
        if (c === '\\' && i + 1 < source.length) {
          value += source.charAt(i + 1);
          i += 2;
          continue;
        }
        if (c === ch) {
          closed = true;
          i++;
          break;
        }
        if (c === '\n') {
          line++;
          lineStart = i + 1;
        }
        value += c;
        i++;
      }
      if (!closed) throw recognitionError(source, start, source.length, at(start));
      tokens.push({ kind: 'STRING', text: source.slice(start, i), value, ...at(start) });
      continue;
    }
    const two = source.slice(i, i + 2);
    if (two === '!=' || two === '<=' || two === '>=') {
      tokens.push({ kind: two, text: two, ...at(start) });
      i += 2;
      continue;
    }
    if (ch === '=' || ch === '<' || ch === '>' || ch === '(' || ch === ')' || ch === ',') {
      tokens.push({ kind: ch, text: ch, ...at(start) });
      i++;
      continue;
    }
    throw recognitionError(source, start, start + 1, at(start));
  }
  tokens.push({ kind: 'EOF', text: '<EOF>', line, column: i - lineStart });
  return tokens;
}

function recognitionError(
  source: string,
  start: number,
  end: number,
  where: { line: number; column: number },
) {
  const text = source.slice(start, end).replace(/\n/g, '\\n').replace(/\t/g, '\\t');
  return new FilterSyntaxError(where.line, where.column, `token recognition error at: '${text}'`);
}

// ---------------------------------------------------------------------------------------------
// Parser and compiler
// ---------------------------------------------------------------------------------------------

type Literal = string | number | boolean;
type Step = { key: string } | { index: number; fromEnd: boolean };

const COMPARISON = ['=', '!=', '<', '<=', '>', '>='] as const;
const LITERALS: Kind[] = ['STRING', 'NUMBER', 'BOOLEAN'];
const AFTER_IDENTIFIER: Kind[] = [...COMPARISON, 'GLOB', 'NOT', 'IN', 'CONTAINS'];

class Parser {
  private position = 0;
  private readonly tokens: Token[];

  constructor(tokens: Token[]) {
    this.tokens = tokens;
  }

  parse(): MetadataPredicate {
    const predicate = this.or();
    const next = this.peek();
    if (next.kind !== 'EOF') {
      this.fail(next, `extraneous input ${quote(next)} expecting {<EOF>, 'AND', 'OR'}`);
    }
    return predicate;
  }

  private peek(): Token {
    return this.tokens[this.position] as Token;
  }

  private take(): Token {
    const token = this.peek();
    if (token.kind !== 'EOF') this.position++;
    return token;
  }

  private expect(...kinds: Kind[]): Token {
    const token = this.peek();
    if (!kinds.includes(token.kind)) this.mismatch(token, kinds);
    return this.take();
  }

  private mismatch(token: Token, expected: Kind[]): never {
    const set =
      expected.length === 1
        ? display(expected[0] as Kind)
        : `{${expected.map(display).join(', ')}}`;
    return this.fail(token, `mismatched input ${quote(token)} expecting ${set}`);
  }

  private fail(token: Token, detail: string): never {
    throw new FilterSyntaxError(token.line, token.column, detail);
  }

  private or(): MetadataPredicate {
    const parts = [this.and()];
    while (this.peek().kind === 'OR') {
      this.take();
      parts.push(this.and());
    }
    if (parts.length === 1) return parts[0] as MetadataPredicate;
    return (m) => {
      for (const part of parts) if (part(m)) return true;
      return false;
    };
  }

  private and(): MetadataPredicate {
    const parts = [this.primary()];
    while (this.peek().kind === 'AND') {
      this.take();
      parts.push(this.primary());
    }
    if (parts.length === 1) return parts[0] as MetadataPredicate;
    return (m) => {
      for (const part of parts) if (!part(m)) return false;
      return true;
    };
  }

  private primary(): MetadataPredicate {
    const token = this.peek();
    if (token.kind === '(') {
      this.take();
      const inner = this.or();
      const close = this.peek();
      if (close.kind !== ')') this.mismatch(close, ['AND', 'OR', ')']);
      this.take();
      return inner;
    }
    if (token.kind === 'HAS') {
      this.take();
      const negated = this.peek().kind === 'NOT';
      if (negated) {
        this.take();
        this.expect('FIELD');
      } else {
        this.expect('FIELD', 'NOT');
      }
      const path = this.path(this.expect('IDENTIFIER'));
      return negated ? (m) => resolve(m, path) === MISSING : (m) => resolve(m, path) !== MISSING;
    }
    if (token.kind !== 'IDENTIFIER') this.mismatch(token, ['(', 'HAS', 'IDENTIFIER']);
    const path = this.path(this.take());
    return this.condition(path);
  }

  private condition(path: Step[]): MetadataPredicate {
    const op = this.peek();
    switch (op.kind) {
      case '=': {
        this.take();
        const literal = this.literal();
        return (m) => equals(resolve(m, path), literal);
      }
      case '!=': {
        this.take();
        const literal = this.literal();
        return (m) => {
          const value = resolve(m, path);
          return isPrimitive(value) && !equals(value, literal);
        };
      }
      case '<':
      case '<=':
      case '>':
      case '>=': {
        this.take();
        const bound = this.expect('NUMBER').value as number;
        const test = compare(op.kind, bound);
        return (m) => {
          const value = resolve(m, path);
          return typeof value === 'number' && test(value);
        };
      }
      case 'NOT': {
        this.take();
        const next = this.peek();
        if (next.kind !== 'GLOB' && next.kind !== 'IN' && next.kind !== 'CONTAINS') {
          this.mismatch(next, ['GLOB', 'IN', 'CONTAINS']);
        }
        return this.setCondition(path, true);
      }
      case 'GLOB':
      case 'IN':
      case 'CONTAINS':
        return this.setCondition(path, false);
      default:
        return this.mismatch(op, AFTER_IDENTIFIER);
    }
  }

  private setCondition(path: Step[], negated: boolean): MetadataPredicate {
    const op = this.take();
    if (op.kind === 'GLOB') {
      const pattern = globToRegExp(this.expect('STRING').value as string);
      return (m) => {
        const value = resolve(m, path);
        return typeof value === 'string' && pattern.test(value) !== negated;
      };
    }
    if (op.kind === 'IN') {
      this.expect('(');
      const options = [this.literal()];
      while (this.peek().kind === ',') {
        this.take();
        options.push(this.literal());
      }
      const close = this.peek();
      if (close.kind !== ')') this.mismatch(close, [',', ')']);
      this.take();
      return (m) => {
        const value = resolve(m, path);
        if (!isPrimitive(value)) return false;
        return options.some((option) => equals(value, option)) !== negated;
      };
    }
    const literal = this.literal();
    return (m) => {
      const value = resolve(m, path);
      if (!Array.isArray(value)) return false;
      return value.some((element) => equals(element, literal)) !== negated;
    };
  }

  private literal(): Literal {
    return this.expect(...LITERALS).value as Literal;
  }

  /** Splits an identifier into keys and array indexes: `a.b[0].c[#-1]`. */
  private path(token: Token): Step[] {
    const steps: Step[] = [];
    const text = token.text;
    const invalid = () => this.fail(token, `invalid identifier '${text}'`);
    let i = 0;
    while (i < text.length) {
      const name = /^[A-Za-z_0-9-]+/.exec(text.slice(i));
      if (!name) return invalid();
      steps.push({ key: name[0] });
      i += name[0].length;
      while (text.charAt(i) === '[') {
        const index = /^\[(#-)?(\d+)\]/.exec(text.slice(i));
        if (!index) return invalid();
        steps.push({ index: Number(index[2]), fromEnd: index[1] !== undefined });
        i += index[0].length;
      }
      if (i === text.length) break;
      if (text.charAt(i) !== '.' || i + 1 === text.length) return invalid();
      i++;
    }
    return steps;
  }
}

function quote(token: Token): string {
  return `'${token.text.replace(/\n/g, '\\n')}'`;
}

const MISSING = Symbol('missing');

function resolve(metadata: Metadata | undefined, path: Step[]): unknown {
  let value: unknown = metadata;
  for (const step of path) {
    if ('key' in step) {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return MISSING;
      if (!Object.hasOwn(value, step.key)) return MISSING;
      value = (value as Metadata)[step.key];
    } else {
      if (!Array.isArray(value)) return MISSING;
      const index = step.fromEnd ? value.length - step.index : step.index;
      if (index < 0 || index >= value.length) return MISSING;
      value = value[index];
    }
  }
  return value;
}

function isPrimitive(value: unknown): value is string | number | boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

function equals(value: unknown, literal: Literal): boolean {
  if (typeof value === 'boolean' && typeof literal === 'number') {
    // The docs spell boolean literals as 1 and 0.
    return literal === 1 ? value : literal === 0 ? !value : false;
  }
  return value === literal;
}

function compare(op: '<' | '<=' | '>' | '>=', bound: number): (value: number) => boolean {
  switch (op) {
    case '<':
      return (v) => v < bound;
    case '<=':
      return (v) => v <= bound;
    case '>':
      return (v) => v > bound;
    case '>=':
      return (v) => v >= bound;
  }
}

/** UNIX glob (`*`, `?`, `[abc]`, `[a-z]`, `[^a-z]`/`[!a-z]`, `\` escapes) to an anchored RegExp. */
export function globToRegExp(glob: string): RegExp {
  let out = '';
  const chars = Array.from(glob);
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i] as string;
    if (c === '*') out += '[\\s\\S]*';
    else if (c === '?') out += '[\\s\\S]';
    else if (c === '\\' && i + 1 < chars.length) out += escapeRegExp(chars[++i] as string);
    else if (c === '[') {
      const close = chars.indexOf(']', i + 2);
      if (close === -1) {
        out += '\\[';
        continue;
      }
      let body = chars.slice(i + 1, close);
      let negate = false;
      if (body[0] === '^' || body[0] === '!') {
        negate = true;
        body = body.slice(1);
      }
      const set = body.map((ch) => (ch === '-' ? '-' : escapeRegExp(ch))).join('');
      out += `[${negate ? '^' : ''}${set}]`;
      i = close;
    } else out += escapeRegExp(c);
  }
  return new RegExp(`^${out}$`, 'u');
}

function escapeRegExp(c: string): string {
  // Only syntax characters may be escaped under the `u` flag (`\-` outside a class is an error).
  return /[\\^$.*+?()[\]{}|/]/.test(c) ? `\\${c}` : c;
}
