import { createRequire } from 'node:module';
import { formatG } from './numbers.ts';

/*
 * Makes fengari's numbers behave like Redis' Lua 5.1, where every number is a double:
 *
 * - Number-to-string is `%.14g` without a ".0" on integral floats (`tostring(10/2)` is "5",
 *   `tostring(1e15)` is "1e+15"); scripts build keys and replies by concatenating numbers.
 *   fengari reads both settings from its luaconf module when its other modules first load, so
 *   luaconf is patched before `fengari` is imported (import this module first).
 * - Numerals in scripts and strings converted to numbers become floats. fengari's integers are
 *   32-bit and wrap (`2147483647 + 1` would be negative); floats keep 5.1's arithmetic.
 *
 * `LuaRuntime` checks the result, in case fengari was loaded before this module ran.
 */
const require = createRequire(import.meta.url);
// defs first: it and luaconf require each other, and fengari itself loads them in this order.
require('fengari/src/defs.js');
const luaconf = require('fengari/src/luaconf.js') as {
  LUA_COMPAT_FLOATSTRING: boolean;
  lua_number2str: (n: number) => string;
};
luaconf.LUA_COMPAT_FLOATSTRING = true;
luaconf.lua_number2str = (n: number) => formatG(n, 14);

type TValue = { ttisinteger(): boolean; setfltvalue(x: number): void; value: number };
// Loaded in fengari's own order (its modules require each other); the lexer, the VM and the API
// call `luaO_str2num` through the module object, so replacing it afterwards takes effect.
require('fengari');
const lobject = require('fengari/src/lobject.js') as {
  luaO_str2num: (s: Uint8Array, o: TValue) => number;
};
const str2num = lobject.luaO_str2num;
lobject.luaO_str2num = (s, o) => {
  const size = str2num(s, o);
  if (size !== 0 && o.ttisinteger()) o.setfltvalue(o.value);
  return size;
};
