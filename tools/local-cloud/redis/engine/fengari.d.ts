// The part of fengari's API the Lua engine uses (fengari ships no types). Lua strings are byte
// arrays; JS strings passed where a Lua string is expected are UTF-8 encoded by fengari.
declare module 'fengari' {
  export type LuaState = { readonly __luaState: unique symbol };
  export type LuaString = Uint8Array;
  type Key = string | LuaString;

  export const lua: {
    LUA_OK: number;
    LUA_TNIL: number;
    LUA_TBOOLEAN: number;
    LUA_TNUMBER: number;
    LUA_TSTRING: number;
    LUA_TTABLE: number;
    LUA_REGISTRYINDEX: number;
    LUA_RIDX_GLOBALS: number;
    LUA_MASKCOUNT: number;
    lua_absindex(L: LuaState, idx: number): number;
    lua_checkstack(L: LuaState, n: number): boolean;
    lua_createtable(L: LuaState, narr: number, nrec: number): void;
    lua_error(L: LuaState): never;
    lua_getfield(L: LuaState, idx: number, k: Key): number;
    lua_gettop(L: LuaState): number;
    lua_isinteger(L: LuaState, idx: number): boolean;
    lua_pcall(L: LuaState, nargs: number, nresults: number, msgh: number): number;
    lua_pushboolean(L: LuaState, b: boolean | number): void;
    lua_pushinteger(L: LuaState, n: number): void;
    lua_pushjsfunction(L: LuaState, f: (L: LuaState) => number): void;
    lua_pushlightuserdata(L: LuaState, p: object): void;
    lua_next(L: LuaState, idx: number): number;
    lua_touserdata(L: LuaState, idx: number): unknown;
    lua_pushnil(L: LuaState): void;
    lua_pushnumber(L: LuaState, n: number): void;
    lua_pushstring(L: LuaState, s: Key): LuaString;
    lua_pushvalue(L: LuaState, idx: number): void;
    lua_rawgeti(L: LuaState, idx: number, n: number): number;
    lua_rawlen(L: LuaState, idx: number): number;
    lua_rawset(L: LuaState, idx: number): void;
    lua_rawseti(L: LuaState, idx: number, n: number): void;
    lua_setfield(L: LuaState, idx: number, k: Key): void;
    lua_sethook(
      L: LuaState,
      f: ((L: LuaState, ar: unknown) => void) | null,
      mask: number,
      count: number,
    ): void;
    lua_settop(L: LuaState, idx: number): void;
    lua_setupvalue(L: LuaState, funcindex: number, n: number): LuaString | null;
    lua_toboolean(L: LuaState, idx: number): boolean;
    lua_tolstring(L: LuaState, idx: number): LuaString | null;
    lua_tonumber(L: LuaState, idx: number): number;
    lua_type(L: LuaState, idx: number): number;
  };

  export const lauxlib: {
    luaL_newstate(): LuaState;
    luaL_loadbuffer(L: LuaState, buff: LuaString, size: number | null, name: Key): number;
    luaL_ref(L: LuaState, t: number): number;
    luaL_unref(L: LuaState, t: number, ref: number): void;
  };

  export const lualib: {
    luaL_openlibs(L: LuaState): void;
  };
}
