/**
 * The JSON <-> Postgres text conversions of Neon's SQL-over-HTTP endpoint (its proxy's
 * `serverless/json.rs`): how JSON parameters become text parameters, and how text values become
 * JSON when the client does not ask for raw text output.
 */

/** A JSON parameter as the text Postgres receives (`null` stays SQL NULL). */
export function jsonToPgText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return jsonArrayToPgArray(value);
  return JSON.stringify(value);
}

function jsonArrayToPgArray(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (Array.isArray(value)) {
    return `{${value.map((v) => jsonArrayToPgArray(v) ?? 'NULL').join(',')}}`;
  }
  // Inside an array literal, strings (and objects, as JSON text) are quoted and escaped.
  if (typeof value === 'object') return JSON.stringify(JSON.stringify(value));
  return JSON.stringify(value);
}

const BOOL = 16;
const INT2 = 21;
const INT4 = 23;
const FLOAT4 = 700;
const FLOAT8 = 701;
const JSON_OID = 114;
const JSONB = 3802;

/** Array type OID -> element type OID, for the built-in types. */
const ARRAY_ELEMENT: Record<number, number> = {
  199: JSON_OID,
  651: 650,
  1000: BOOL,
  1001: 17,
  1002: 18,
  1003: 19,
  1005: INT2,
  1007: INT4,
  1009: 25,
  1014: 1042,
  1015: 1043,
  1016: 20,
  1021: FLOAT4,
  1022: FLOAT8,
  1028: 26,
  1040: 829,
  1041: 869,
  1115: 1114,
  1182: 1082,
  1183: 1083,
  1185: 1184,
  1187: 1186,
  1231: 1700,
  1270: 1266,
  1561: 1560,
  1563: 1562,
  2951: 2950,
  3643: 3614,
  3807: JSONB,
};

/** A Postgres text value as JSON, typed by its column's type OID. */
export function pgTextToJson(text: string, typeId: number): unknown {
  const element = ARRAY_ELEMENT[typeId];
  if (element !== undefined) return parsePgArray(text, element);
  switch (typeId) {
    case BOOL:
      return text === 't';
    case INT2:
    case INT4:
      return Number.parseInt(text, 10);
    case FLOAT4:
    case FLOAT8: {
      const n = Number(text);
      // NaN and ±Infinity stay strings: JSON has no way to say them.
      return Number.isFinite(n) ? n : text;
    }
    case JSON_OID:
    case JSONB:
      return JSON.parse(text);
    default:
      return text;
  }
}

/** Parses Postgres' array text form (`{1,NULL,"a b"}`, nested, with optional bounds). */
export function parsePgArray(text: string, elementType: number): unknown[] {
  let input = text;
  if (input.startsWith('[')) {
    const eq = input.indexOf('=');
    if (eq < 0) throw new SyntaxError('unbalanced array');
    input = input.slice(eq + 1);
  }
  let pos = 0;
  const skipSpace = () => {
    while (pos < input.length && /\s/.test(input[pos]!)) pos++;
  };
  const parseArray = (): unknown[] => {
    skipSpace();
    if (input[pos] !== '{') throw new SyntaxError('unbalanced array');
    pos++;
    const out: unknown[] = [];
    skipSpace();
    if (input[pos] === '}') {
      pos++;
      return out;
    }
    for (;;) {
      skipSpace();
      if (input[pos] === '{') out.push(parseArray());
      else if (input[pos] === '"') {
        pos++;
        let value = '';
        for (;;) {
          const ch = input[pos++];
          if (ch === undefined) throw new SyntaxError('unbalanced quoted string');
          if (ch === '"') break;
          if (ch === '\\') {
            const escaped = input[pos++];
            if (escaped === undefined) throw new SyntaxError('unbalanced quoted string');
            value += escaped;
          } else value += ch;
        }
        out.push(pgTextToJson(value, elementType));
      } else {
        let end = pos;
        while (end < input.length && input[end] !== ',' && input[end] !== '}') end++;
        if (end >= input.length) throw new SyntaxError('unbalanced array');
        const item = input.slice(pos, end).trimEnd();
        pos = end;
        out.push(item === 'NULL' ? null : pgTextToJson(item, elementType));
      }
      skipSpace();
      if (input[pos] === ',') {
        pos++;
        continue;
      }
      if (input[pos] === '}') {
        pos++;
        return out;
      }
      throw new SyntaxError('unbalanced array');
    }
  };
  const result = parseArray();
  skipSpace();
  if (pos !== input.length) throw new SyntaxError('unbalanced array');
  return result;
}
