/**
 * Redis' glob matcher (`stringmatchlen` in util.c), ported as is so KEYS, SCAN MATCH and friends
 * agree with the server on the odd cases: `[^...]`, ranges written backwards, `\` escapes and an
 * unterminated `[`. Works on byte strings.
 */
export function globMatch(pattern: string, text: string, nocase = false): boolean {
  // Callers special-case a lone `*` the way Redis does (it then matches even the empty key).
  if (pattern === '*') return true;
  return match(pattern, 0, text, 0, nocase, 0);
}

const lower = (c: number) => (c >= 65 && c <= 90 ? c + 32 : c);

function match(
  p: string,
  pi: number,
  s: string,
  si: number,
  nocase: boolean,
  depth: number,
): boolean {
  // Redis bails out of pathological patterns the same way (nesting limit).
  if (depth > 1000) return false;
  const plen = p.length;
  const slen = s.length;
  while (pi < plen && si < slen) {
    const pc = p.charCodeAt(pi);
    switch (pc) {
      case 42 /* * */:
        {
          while (pi + 1 < plen && p.charCodeAt(pi + 1) === 42) pi++;
          if (pi + 1 === plen) return true;
          for (let k = si; k < slen; k++) {
            if (match(p, pi + 1, s, k, nocase, depth + 1)) return true;
          }
          return false;
        }
      case 63 /* ? */:
        si++;
        break;
      case 91 /* [ */:
        {
          pi++;
          const not = p.charCodeAt(pi) === 94; /* ^ */
          if (not) pi++;
          let matched = false;
          const c = s.charCodeAt(si);
          for (;;) {
            if (pi >= plen) {
              pi--;
              break;
            }
            const q = p.charCodeAt(pi);
            if (q === 92 /* \ */ && pi + 1 < plen) {
              pi++;
              if (p.charCodeAt(pi) === c) matched = true;
            } else if (q === 93 /* ] */) {
              break;
            } else if (pi + 2 < plen && p.charCodeAt(pi + 1) === 45 /* - */) {
              let start = q;
              let end = p.charCodeAt(pi + 2);
              let cc = c;
              if (start > end) [start, end] = [end, start];
              if (nocase) {
                start = lower(start);
                end = lower(end);
                cc = lower(cc);
              }
              pi += 2;
              if (cc >= start && cc <= end) matched = true;
            } else if (nocase ? lower(q) === lower(c) : q === c) {
              matched = true;
            }
            pi++;
          }
          if (not) matched = !matched;
          if (!matched) return false;
          si++;
          break;
        }
      case 92 /* \ */:
        if (pi + 1 < plen) pi++;
        // falls through to the literal comparison
        if (
          nocase
            ? lower(p.charCodeAt(pi)) !== lower(s.charCodeAt(si))
            : p.charCodeAt(pi) !== s.charCodeAt(si)
        ) {
          return false;
        }
        si++;
        break;
      default:
        if (nocase ? lower(pc) !== lower(s.charCodeAt(si)) : pc !== s.charCodeAt(si)) return false;
        si++;
        break;
    }
    pi++;
    if (si === slen) {
      while (pi < plen && p.charCodeAt(pi) === 42) pi++;
      break;
    }
  }
  return pi === plen && si === slen;
}
