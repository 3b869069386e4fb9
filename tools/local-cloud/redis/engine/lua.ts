import './fengari-config.ts';
import { createHash } from 'node:crypto';
import { type LuaState, lauxlib, lua, lualib } from 'fengari';
import { type Argv, ErrorReply, type Reply, Status } from '../reply.ts';
import { sanitize } from './errors.ts';
import { formatG, formatG17, toLongLong } from './numbers.ts';

/*
 * Redis' Lua scripting on fengari (Lua 5.3 in JS). Redis embeds Lua 5.1, so the environment is
 * shaped to match what scripts see there: the same globals (5.1 compatibility functions added,
 * 5.3-only ones removed, no os/io/debug), a read-only global table, Redis' `pcall`, its error
 * handler and its exact Lua <-> RESP2 conversions. Numbers Redis hands to a script are floats, as
 * all numbers are in 5.1; fengari's integers are 32-bit and would wrap.
 */

const { LUA_TNIL, LUA_TBOOLEAN, LUA_TNUMBER, LUA_TSTRING, LUA_TTABLE, LUA_REGISTRYINDEX } = lua;

/** Redis 7.0.15, as `redis.REDIS_VERSION` reports it. */
const REDIS_VERSION = '7.0.15';
/** A script that runs this long is stopped with an error instead of hanging the server. */
export const SCRIPT_TIME_LIMIT_MS = 5_000;
const MAX_REPLY_DEPTH = 1_000;

export const toLua = (s: string): Uint8Array => {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
};

const fromLua = (u: Uint8Array): string =>
  Buffer.from(u.buffer, u.byteOffset, u.byteLength).toString('latin1');

export const sha1hex = (bytes: string) =>
  createHash('sha1').update(Buffer.from(bytes, 'latin1')).digest('hex');

/**
 * `luaPushErrorBuff`: "-CODE msg" keeps its code, anything else gets "ERR "; a "-word" without a
 * space becomes "ERR word".
 */
export function luaErrorText(raw: string): string {
  let code = 'ERR';
  let msg = raw;
  if (raw.startsWith('-')) {
    const space = raw.indexOf(' ');
    if (space < 0) msg = raw.slice(1);
    else {
      code = raw.slice(1, space);
      msg = raw.slice(space + 1);
    }
  }
  return `${code} ${msg.replace(/^[\r\n]+|[\r\n]+$/g, '')}`;
}

/** The part of the engine a script talks to through `redis.call`. */
export type ScriptHost = {
  /** Runs a command for a script; returns the reply or an error text for the script checks. */
  callFromScript(argv: Argv, readOnly: boolean): Reply;
};

type RunContext = { readOnly: boolean; deadline: number };

/** The Lua 5.1-flavoured environment, built once per engine. */
const PRELUDE = `
local js = ...
local G = _G
local dbg = debug
local pcall0, error0, type0, tostring0, tonumber0, rawset0 = pcall, error, type, tostring, tonumber, rawset
local pack, unpack0, mtype = table.pack, table.unpack, math.type

-- Lua 5.1 functions Redis scripts may use.
unpack = unpack0
loadstring = load
gcinfo = function() return math.floor(collectgarbage('count')) end
table.getn = function(t) return #t end
table.maxn = function(t)
  local n = 0
  for k in pairs(t) do if type0(k) == 'number' and k > n then n = k end end
  return n
end
table.foreach = function(t, f)
  for k, v in pairs(t) do local r = f(k, v) if r ~= nil then return r end end
end
table.foreachi = function(t, f)
  for i = 1, #t do local r = f(i, t[i]) if r ~= nil then return r end end
end
math.pow = function(x, y) return x ^ y end
math.log10 = function(x) return math.log(x, 10) end
math.ldexp = function(m, e) return m * 2.0 ^ e end
math.frexp = js.frexp
string.gfind = string.gmatch
math.random = js.random
math.randomseed = js.randomseed
-- Every number is a float in Lua 5.1 (fengari's integers are 32-bit and wrap): keep the
-- numbers scripts compute with floats.
local function float(n)
  if n ~= nil and mtype(n) == 'integer' then return n + 0.0 end
  return n
end
tonumber = function(...) return float(tonumber0(...)) end
local floor0, ceil0, abs0 = math.floor, math.ceil, math.abs
math.floor = function(x) return float(floor0(x)) end
math.ceil = function(x) return float(ceil0(x)) end
math.abs = function(x) return float(abs0(x)) end

-- What Lua 5.3 has and Redis' Lua does not.
table.unpack, table.pack, table.move = nil, nil, nil
string.pack, string.unpack, string.packsize = nil, nil, nil
math.type, math.tointeger, math.ult, math.maxinteger, math.mininteger = nil, nil, nil, nil, nil
utf8, io, os, package, require, dofile, loadfile, print, debug = nil, nil, nil, nil, nil, nil, nil, nil, nil

bit = js.bit
cjson = js.cjson

redis = {
  call = js.call,
  pcall = js.pcall,
  sha1hex = js.sha1hex,
  error_reply = js.error_reply,
  status_reply = js.status_reply,
  log = js.log,
  setresp = js.setresp,
  replicate_commands = function() return true end,
  set_repl = function() end,
  breakpoint = function() return false end,
  debug = function() end,
  LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
  REPL_NONE = 0, REPL_AOF = 1, REPL_SLAVE = 2, REPL_REPLICA = 2, REPL_ALL = 3,
  REDIS_VERSION = '${REDIS_VERSION}',
  REDIS_VERSION_NUM = ${0x07000f},
}

-- Redis' pcall: an error table raised by redis.call comes back as its message string.
pcall = function(...)
  local r = pack(pcall0(...))
  if not r[1] and type0(r[2]) == 'table' and type0(r[2].err) == 'string' then
    return false, r[2].err
  end
  return unpack0(r, 1, r.n)
end

-- Redis' __redis__err__handler: report the script line, not the C function's. Here the
-- helpers are JS ('J') functions or Lua ones from this prelude; skip them all.
local function handler(err)
  local level = 2
  local i = dbg.getinfo(level, 'nSl')
  while i and (i.what == 'C' or i.what == 'J' or i.source == '=prelude') do
    level = level + 1
    i = dbg.getinfo(level, 'nSl')
  end
  i = i or dbg.getinfo(2, 'nSl')
  if type0(err) ~= 'table' then err = {err = 'ERR ' .. tostring0(err)} end
  if i then
    err['source'] = i.source
    err['line'] = i.currentline
  end
  return err
end

KEYS, ARGV = {}, {}

-- Scripts run with this read-only view of the globals as their _ENV.
local env = setmetatable({}, {
  __index = G,
  __newindex = function() error0('Attempt to modify a readonly table', 2) end,
  __metatable = false,
})
G._G = env
rawset = function(t, k, v)
  if t == env or t == G then error0('Attempt to modify a readonly table', 0) end
  return rawset0(t, k, v)
end
setmetatable(G, {
  __index = function(_, k)
    error0("Script attempted to access nonexistent global variable '" .. tostring0(k) .. "'", 2)
  end,
  __newindex = function() error0('Attempt to modify a readonly table', 2) end,
  __metatable = false,
})
return handler, env
`;

/** Redis' rand48 (redisLrand48), seeded with 0 at start; Redis 7.0 does not reseed per script. */
class Rand48 {
  private x = 0n;
  seed(v: number): void {
    const s = BigInt(v | 0) & 0xffffffffn;
    this.x = (s << 16n) | 0x330en;
  }
  next(): number {
    this.x = (0x5deece66dn * this.x + 0xbn) & 0xffffffffffffn;
    return Number(this.x >> 17n);
  }
}

const INT32_MAX = 2147483647;
const CJSON_NULL = { cjsonNull: true };

/** A JSON string as lua-cjson writes it: bytes as they are, "/" escaped, controls as \\uXXXX. */
function jsonString(bytes: string): string {
  let out = '"';
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes.charCodeAt(i);
    const ch = bytes[i] as string;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '/') out += '\\/';
    else if (c === 8) out += '\\b';
    else if (c === 12) out += '\\f';
    else if (c === 10) out += '\\n';
    else if (c === 13) out += '\\r';
    else if (c === 9) out += '\\t';
    else if (c < 32 || c === 127) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

export class LuaRuntime {
  private readonly L: LuaState;
  private readonly host: ScriptHost;
  private readonly handlerRef: number;
  private readonly envRef: number;
  private readonly functions = new Map<string, number>();
  private readonly rand = new Rand48();
  private context: RunContext | undefined;
  private readonly timeLimitMs: number;

  constructor(host: ScriptHost, timeLimitMs = SCRIPT_TIME_LIMIT_MS) {
    this.host = host;
    this.timeLimitMs = timeLimitMs;
    const L = lauxlib.luaL_newstate();
    this.L = L;
    lualib.luaL_openlibs(L);
    if (lauxlib.luaL_loadbuffer(L, toLua(PRELUDE), null, '=prelude') !== lua.LUA_OK) {
      throw new Error(`Lua prelude: ${fromLua(lua.lua_tolstring(L, -1) as Uint8Array)}`);
    }
    this.pushJsTable();
    if (lua.lua_pcall(L, 1, 2, 0) !== lua.LUA_OK) {
      throw new Error(`Lua prelude: ${fromLua(lua.lua_tolstring(L, -1) as Uint8Array)}`);
    }
    this.envRef = lauxlib.luaL_ref(L, LUA_REGISTRYINDEX);
    this.handlerRef = lauxlib.luaL_ref(L, LUA_REGISTRYINDEX);
    this.rand.seed(0);
    this.checkNumberFormat();
    lua.lua_sethook(
      L,
      (hookL) => {
        if (this.context && Date.now() > this.context.deadline) {
          this.raise(
            hookL,
            `ERR Script exceeded the ${this.timeLimitMs} ms time limit of the local engine`,
          );
        }
      },
      lua.LUA_MASKCOUNT,
      10_000,
    );
  }

  /** Fails loudly if fengari was loaded before `fengari-config.ts` could configure it. */
  private checkNumberFormat(): void {
    const L = this.L;
    const probe = 'return tostring(10/2) .. tostring(1e15) .. (2147483647 + 1)';
    lauxlib.luaL_loadbuffer(L, toLua(probe), null, '=check');
    lua.lua_pcall(L, 0, 1, 0);
    const text = this.str(-1);
    lua.lua_settop(L, 0);
    if (text !== '51e+152147483648') {
      throw new Error(`fengari was loaded before fengari-config.ts ran: tostring gives ${text}`);
    }
  }

  /** Compiles a script body (shebang line already blanked) under `@user_script`. */
  compile(sha: string, body: string): string | undefined {
    const L = this.L;
    if (this.functions.has(sha)) return undefined;
    if (lauxlib.luaL_loadbuffer(L, toLua(body), null, '@user_script') !== lua.LUA_OK) {
      const message = fromLua(lua.lua_tolstring(L, -1) ?? new Uint8Array());
      lua.lua_settop(L, 0);
      return sanitize(`ERR Error compiling script (new function): ${message}`);
    }
    lua.lua_rawgeti(L, LUA_REGISTRYINDEX, this.envRef);
    lua.lua_setupvalue(L, -2, 1);
    this.functions.set(sha, lauxlib.luaL_ref(L, LUA_REGISTRYINDEX));
    return undefined;
  }

  has(sha: string): boolean {
    return this.functions.has(sha);
  }

  flush(): void {
    for (const ref of this.functions.values()) lauxlib.luaL_unref(this.L, LUA_REGISTRYINDEX, ref);
    this.functions.clear();
  }

  /** Runs a compiled script: KEYS/ARGV set, Redis' error handler installed, reply converted. */
  run(sha: string, keys: string[], args: string[], readOnly: boolean): Reply {
    const L = this.L;
    const ref = this.functions.get(sha);
    if (ref === undefined) return new ErrorReply('NOSCRIPT No matching script. Please use EVAL.');
    this.setArray('KEYS', keys);
    this.setArray('ARGV', args);
    lua.lua_settop(L, 0);
    lua.lua_rawgeti(L, LUA_REGISTRYINDEX, this.handlerRef);
    lua.lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
    this.context = { readOnly, deadline: Date.now() + this.timeLimitMs };
    let status: number;
    try {
      status = lua.lua_pcall(L, 0, 1, 1);
    } finally {
      this.context = undefined;
    }
    try {
      if (status === lua.LUA_OK) return this.toReply(-1, 0);
      return this.scriptError(sha);
    } finally {
      lua.lua_settop(L, 0);
    }
  }

  /** The error object left by a failed script, formatted as Redis' `luaCallFunction` does. */
  private scriptError(sha: string): Reply {
    const L = this.L;
    if (lua.lua_type(L, -1) !== LUA_TTABLE) {
      const text = lua.lua_type(L, -1) === LUA_TSTRING ? this.str(-1) : 'execution failure';
      return new ErrorReply(sanitize(`ERR Error running script f_${sha}, ${text.slice(0, 100)}`));
    }
    const field = (name: string): string | undefined => {
      const t = lua.lua_getfield(L, -1, name);
      const value = t === LUA_TSTRING || t === LUA_TNUMBER ? this.str(-1) : undefined;
      lua.lua_settop(L, -2);
      return value;
    };
    const msg = field('err') ?? 'ERR unknown error';
    const source = field('source');
    const line = field('line');
    const text =
      line !== undefined && source !== undefined
        ? `${msg} script: ${sha}, on ${source}:${line}.`
        : msg;
    return new ErrorReply(sanitize(text));
  }

  private str(idx: number): string {
    const u = lua.lua_tolstring(this.L, idx);
    return u === null ? '' : fromLua(u);
  }

  private setArray(name: string, items: string[]): void {
    const L = this.L;
    lua.lua_rawgeti(L, LUA_REGISTRYINDEX, lua.LUA_RIDX_GLOBALS);
    lua.lua_pushstring(L, name);
    lua.lua_createtable(L, items.length, 0);
    for (let i = 0; i < items.length; i++) {
      lua.lua_pushstring(L, toLua(items[i] as string));
      lua.lua_rawseti(L, -2, i + 1);
    }
    lua.lua_rawset(L, -3);
    lua.lua_settop(L, -2);
  }

  /** `luaReplyToRedisReply` for RESP2. */
  private toReply(idx: number, depth: number): Reply {
    const L = this.L;
    const at = lua.lua_absindex(L, idx);
    switch (lua.lua_type(L, at)) {
      case LUA_TSTRING:
        return this.str(at);
      case LUA_TNUMBER:
        return toLongLong(lua.lua_tonumber(L, at));
      case LUA_TBOOLEAN:
        return lua.lua_toboolean(L, at) ? 1 : null;
      case LUA_TTABLE: {
        // A table that contains itself would recurse forever; Redis stops at its stack limit.
        if (depth > MAX_REPLY_DEPTH || !lua.lua_checkstack(L, 4)) {
          return new ErrorReply('ERR reached lua stack limit');
        }
        if (lua.lua_getfield(L, at, 'err') === LUA_TSTRING) {
          const msg = this.str(-1);
          lua.lua_settop(L, -2);
          return new ErrorReply(sanitize(msg));
        }
        lua.lua_settop(L, -2);
        if (lua.lua_getfield(L, at, 'ok') === LUA_TSTRING) {
          const msg = this.str(-1);
          lua.lua_settop(L, -2);
          return new Status(sanitize(msg));
        }
        lua.lua_settop(L, -2);
        if (lua.lua_getfield(L, at, 'double') === LUA_TNUMBER) {
          const d = lua.lua_tonumber(L, -1);
          lua.lua_settop(L, -2);
          return formatG17(d);
        }
        lua.lua_settop(L, -2);
        const out: Reply[] = [];
        for (let j = 1; ; j++) {
          if (lua.lua_rawgeti(L, at, j) === LUA_TNIL) {
            lua.lua_settop(L, -2);
            break;
          }
          out.push(this.toReply(-1, depth + 1));
          lua.lua_settop(L, -2);
        }
        return out;
      }
      default:
        return null;
    }
  }

  /** `redisProtocolToLuaType` for RESP2. */
  private pushReply(L: LuaState, reply: Reply): void {
    if (!lua.lua_checkstack(L, 4)) this.raise(L, 'ERR reached lua stack limit');
    if (typeof reply === 'string') lua.lua_pushstring(L, toLua(reply));
    else if (typeof reply === 'number') lua.lua_pushnumber(L, reply);
    else if (typeof reply === 'bigint') lua.lua_pushnumber(L, Number(reply));
    else if (reply === null) lua.lua_pushboolean(L, false);
    else if (Array.isArray(reply)) {
      lua.lua_createtable(L, reply.length, 0);
      for (let i = 0; i < reply.length; i++) {
        this.pushReply(L, reply[i] as Reply);
        lua.lua_rawseti(L, -2, i + 1);
      }
    } else if (reply instanceof Status) {
      lua.lua_createtable(L, 0, 1);
      lua.lua_pushstring(L, toLua(reply.value));
      lua.lua_setfield(L, -2, 'ok');
    } else {
      this.pushErrorTable(L, reply.message);
    }
  }

  private pushErrorTable(L: LuaState, text: string): void {
    lua.lua_createtable(L, 0, 1);
    lua.lua_pushstring(L, toLua(text));
    lua.lua_setfield(L, -2, 'err');
  }

  /** Raises an error table, as `luaPushError` + `luaError` do. */
  private raise(L: LuaState, text: string): never {
    this.pushErrorTable(L, text);
    return lua.lua_error(L);
  }

  /** `luaRedisGenericCommand`: redis.call (raise) and redis.pcall (return the error table). */
  private redisCall(L: LuaState, raise: boolean): number {
    const fail = (text: string) => {
      if (raise) this.raise(L, text);
      this.pushErrorTable(L, text);
      return 1;
    };
    const argc = lua.lua_gettop(L);
    if (argc === 0) return fail('ERR Please specify at least one argument for this redis lib call');
    const argv: string[] = [];
    for (let i = 1; i <= argc; i++) {
      const t = lua.lua_type(L, i);
      if (t === LUA_TSTRING) argv.push(this.str(i));
      else if (t === LUA_TNUMBER) {
        // Redis formats Lua numbers with %.17g (lua_tostring would lose precision).
        argv.push(
          lua.lua_isinteger(L, i)
            ? String(lua.lua_tonumber(L, i))
            : formatG17(lua.lua_tonumber(L, i)),
        );
      } else {
        return fail('ERR Lua redis lib command arguments must be strings or integers');
      }
    }
    const reply = this.host.callFromScript(argv, this.context?.readOnly ?? false);
    if (reply instanceof ErrorReply) return fail(luaErrorText(`-${reply.message}`));
    this.pushReply(L, reply);
    return 1;
  }

  /** Wraps a JS function for Lua: JS exceptions become Lua errors instead of corrupting the VM. */
  private fn(L: LuaState, name: string, f: (L: LuaState) => number): void {
    lua.lua_pushjsfunction(L, (inner) => {
      try {
        return f(inner);
      } catch (error) {
        if (error instanceof Error && error.constructor.name === 'LuaError') throw error;
        if (error !== null && typeof error === 'object' && !(error instanceof Error)) throw error;
        return this.raise(inner, `ERR ${(error as Error).message}`);
      }
    });
    lua.lua_setfield(L, -2, name);
  }

  private pushJsTable(): void {
    const L = this.L;
    lua.lua_createtable(L, 0, 16);
    this.fn(L, 'call', (l) => this.redisCall(l, true));
    this.fn(L, 'pcall', (l) => this.redisCall(l, false));
    this.fn(L, 'sha1hex', (l) => {
      if (lua.lua_gettop(l) !== 1) this.raise(l, 'ERR wrong number of arguments');
      lua.lua_pushstring(l, sha1hex(this.str(1)));
      return 1;
    });
    this.fn(L, 'error_reply', (l) => {
      if (lua.lua_gettop(l) !== 1 || lua.lua_type(l, -1) !== LUA_TSTRING) {
        this.pushErrorTable(l, 'ERR wrong number or type of arguments');
        return 1;
      }
      const text = this.str(1);
      this.pushErrorTable(l, luaErrorText(text.startsWith('-') ? text : `-${text}`));
      return 1;
    });
    this.fn(L, 'status_reply', (l) => {
      if (lua.lua_gettop(l) !== 1 || lua.lua_type(l, -1) !== LUA_TSTRING) {
        this.pushErrorTable(l, 'ERR wrong number or type of arguments');
        return 1;
      }
      lua.lua_createtable(l, 0, 1);
      lua.lua_pushstring(l, toLua(this.str(1)));
      lua.lua_setfield(l, -2, 'ok');
      return 1;
    });
    this.fn(L, 'log', (l) => {
      const argc = lua.lua_gettop(l);
      if (argc < 2) this.raise(l, 'ERR redis.log() requires two arguments or more.');
      if (lua.lua_type(l, 1) !== LUA_TNUMBER)
        this.raise(l, 'ERR First argument must be a number (log level).');
      const level = lua.lua_tonumber(l, 1);
      if (level < 0 || level > 3) this.raise(l, 'ERR Invalid debug level.');
      return 0;
    });
    this.fn(L, 'setresp', (l) => {
      const v = lua.lua_tonumber(l, 1);
      if (lua.lua_gettop(l) !== 1 || (v !== 2 && v !== 3)) {
        this.raise(l, 'ERR RESP version must be 2 or 3.');
      }
      return 0;
    });
    this.fn(L, 'random', (l) => {
      const r = (this.rand.next() % INT32_MAX) / INT32_MAX;
      const argc = lua.lua_gettop(l);
      const int = (i: number) => Math.trunc(lua.lua_tonumber(l, i));
      if (argc === 0) lua.lua_pushnumber(l, r);
      else if (argc === 1) {
        const u = int(1);
        if (u < 1) this.raise(l, "ERR bad argument #1 to 'random' (interval is empty)");
        lua.lua_pushnumber(l, Math.floor(r * u) + 1);
      } else if (argc === 2) {
        const lo = int(1);
        const hi = int(2);
        if (lo > hi) this.raise(l, "ERR bad argument #2 to 'random' (interval is empty)");
        lua.lua_pushnumber(l, Math.floor(r * (hi - lo + 1)) + lo);
      } else {
        this.raise(l, 'ERR wrong number of arguments');
      }
      return 1;
    });
    this.fn(L, 'randomseed', (l) => {
      this.rand.seed(Math.trunc(lua.lua_tonumber(l, 1)));
      return 0;
    });
    this.fn(L, 'frexp', (l) => {
      const x = lua.lua_tonumber(l, 1);
      if (x === 0 || !Number.isFinite(x)) {
        lua.lua_pushnumber(l, x);
        lua.lua_pushnumber(l, 0);
        return 2;
      }
      let e = Math.max(-1073, Math.floor(Math.log2(Math.abs(x))) + 1);
      let m = x * 2 ** -e;
      while (Math.abs(m) < 0.5) {
        m *= 2;
        e--;
      }
      while (Math.abs(m) >= 1) {
        m /= 2;
        e++;
      }
      lua.lua_pushnumber(l, m);
      lua.lua_pushnumber(l, e);
      return 2;
    });
    lua.lua_createtable(L, 0, 12);
    this.pushBitLib(L);
    lua.lua_setfield(L, -2, 'bit');
    lua.lua_createtable(L, 0, 4);
    this.pushCjson(L);
    lua.lua_setfield(L, -2, 'cjson');
  }

  /**
   * lua-cjson's encode/decode, as Redis bundles it: numbers with %.14g, "/" escaped, tables with
   * keys 1..n as arrays, other tables as objects, `cjson.null` for JSON null.
   */
  private pushCjson(L: LuaState): void {
    lua.lua_pushlightuserdata(L, CJSON_NULL);
    lua.lua_setfield(L, -2, 'null');
    this.fn(L, 'encode', (l) => {
      if (lua.lua_gettop(l) !== 1)
        this.raise(l, "ERR bad argument #1 to 'encode' (expected 1 argument)");
      lua.lua_pushstring(l, toLua(this.jsonEncode(l, 1, 0)));
      return 1;
    });
    this.fn(L, 'decode', (l) => {
      let value: unknown;
      try {
        value = JSON.parse(Buffer.from(this.str(1), 'latin1').toString('utf8'));
      } catch {
        return this.raise(l, 'ERR Expected value but found invalid token at character 1');
      }
      this.pushJson(l, value);
      return 1;
    });
  }

  private jsonEncode(L: LuaState, idx: number, depth: number): string {
    const at = lua.lua_absindex(L, idx);
    switch (lua.lua_type(L, at)) {
      case LUA_TNIL:
        return 'null';
      case LUA_TBOOLEAN:
        return lua.lua_toboolean(L, at) ? 'true' : 'false';
      case LUA_TNUMBER: {
        const n = lua.lua_tonumber(L, at);
        if (!Number.isFinite(n))
          this.raise(L, 'ERR Cannot serialise number: must not be NaN or Inf');
        return formatG(n, 14);
      }
      case LUA_TSTRING:
        return jsonString(this.str(at));
      case LUA_TTABLE: {
        if (depth > 1000) this.raise(L, 'ERR Cannot serialise, excessive nesting (1001)');
        let arrayish = true;
        let max = 0;
        lua.lua_pushnil(L);
        while (lua.lua_next(L, at) !== 0) {
          const keyType = lua.lua_type(L, -2);
          if (keyType === LUA_TNUMBER) {
            const k = lua.lua_tonumber(L, -2);
            if (Number.isInteger(k) && k >= 1) max = Math.max(max, k);
            else arrayish = false;
          } else if (keyType === LUA_TSTRING) {
            arrayish = false;
          } else {
            this.raise(L, 'ERR Cannot serialise table: table key must be a number or string');
          }
          lua.lua_settop(L, -2);
        }
        if (arrayish && max > 0) {
          const parts: string[] = [];
          for (let i = 1; i <= max; i++) {
            lua.lua_rawgeti(L, at, i);
            parts.push(this.jsonEncode(L, -1, depth + 1));
            lua.lua_settop(L, -2);
          }
          return `[${parts.join(',')}]`;
        }
        const parts: string[] = [];
        lua.lua_pushnil(L);
        while (lua.lua_next(L, at) !== 0) {
          const key =
            lua.lua_type(L, -2) === LUA_TNUMBER
              ? formatG(lua.lua_tonumber(L, -2), 14)
              : this.str(-2);
          parts.push(`${jsonString(key)}:${this.jsonEncode(L, -1, depth + 1)}`);
          lua.lua_settop(L, -2);
        }
        return `{${parts.join(',')}}`;
      }
      default:
        if (lua.lua_touserdata(L, at) === CJSON_NULL) return 'null';
        return this.raise(L, 'ERR Cannot serialise value: type not supported');
    }
  }

  private pushJson(L: LuaState, value: unknown, depth = 0): void {
    if (depth > MAX_REPLY_DEPTH || !lua.lua_checkstack(L, 4)) {
      this.raise(L, 'ERR Found too many nested data structures');
    }
    if (value === null) lua.lua_pushlightuserdata(L, CJSON_NULL);
    else if (typeof value === 'string')
      lua.lua_pushstring(L, toLua(Buffer.from(value, 'utf8').toString('latin1')));
    else if (typeof value === 'number') lua.lua_pushnumber(L, value);
    else if (typeof value === 'boolean') lua.lua_pushboolean(L, value);
    else if (Array.isArray(value)) {
      lua.lua_createtable(L, value.length, 0);
      value.forEach((item, i) => {
        this.pushJson(L, item, depth + 1);
        lua.lua_rawseti(L, -2, i + 1);
      });
    } else {
      const record = value as Record<string, unknown>;
      lua.lua_createtable(L, 0, Object.keys(record).length);
      for (const [k, v] of Object.entries(record)) {
        lua.lua_pushstring(L, toLua(Buffer.from(k, 'utf8').toString('latin1')));
        this.pushJson(L, v, depth + 1);
        lua.lua_rawset(L, -3);
      }
    }
  }

  /** LuaBitOp (`bit`), 32-bit semantics, results as numbers. */
  private pushBitLib(L: LuaState): void {
    const arg = (l: LuaState, i: number) => {
      const n = lua.lua_tonumber(l, i);
      return Number.isFinite(n) ? Number(BigInt.asIntN(32, BigInt(Math.round(n)))) : 0;
    };
    const fold = (op: (a: number, b: number) => number) => (l: LuaState) => {
      let acc = arg(l, 1);
      for (let i = 2; i <= lua.lua_gettop(l); i++) acc = op(acc, arg(l, i));
      lua.lua_pushnumber(l, acc | 0);
      return 1;
    };
    const unary = (op: (a: number, n: number) => number) => (l: LuaState) => {
      lua.lua_pushnumber(l, op(arg(l, 1), arg(l, 2) & 31) | 0);
      return 1;
    };
    this.fn(
      L,
      'tobit',
      unary((a) => a),
    );
    this.fn(
      L,
      'bnot',
      unary((a) => ~a),
    );
    this.fn(
      L,
      'band',
      fold((a, b) => a & b),
    );
    this.fn(
      L,
      'bor',
      fold((a, b) => a | b),
    );
    this.fn(
      L,
      'bxor',
      fold((a, b) => a ^ b),
    );
    this.fn(
      L,
      'lshift',
      unary((a, n) => a << n),
    );
    this.fn(
      L,
      'rshift',
      unary((a, n) => a >>> n),
    );
    this.fn(
      L,
      'arshift',
      unary((a, n) => a >> n),
    );
    this.fn(
      L,
      'rol',
      unary((a, n) => (a << n) | (a >>> (32 - n))),
    );
    this.fn(
      L,
      'ror',
      unary((a, n) => (a >>> n) | (a << (32 - n))),
    );
    this.fn(
      L,
      'bswap',
      unary((a) => ((a & 0xff) << 24) | ((a & 0xff00) << 8) | ((a >>> 8) & 0xff00) | (a >>> 24)),
    );
    this.fn(L, 'tohex', (l) => {
      const x = arg(l, 1);
      let n = lua.lua_gettop(l) >= 2 ? arg(l, 2) : 8;
      const upper = n < 0;
      if (upper) n = -n;
      if (n > 8) n = 8;
      const hex = (x >>> 0)
        .toString(16)
        .padStart(8, '0')
        .slice(8 - n);
      lua.lua_pushstring(l, upper ? hex.toUpperCase() : hex);
      return 1;
    });
  }
}
