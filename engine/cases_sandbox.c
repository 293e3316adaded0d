/* engine/cases_sandbox.c: the private Lua state of a case-file load: limits no file can dodge and
 * a library whose every call does bounded work.
 *
 * Why each limit holds (issue 13: each of these was once dodged):
 *   1. Instructions: a count hook every HOOK_EVERY instructions; past the budget it raises.
 *   2. Wall clock: the same hook, and mc_sandbox_tick in C loops, compare the clock with a
 *      deadline fixed when the state opens. It catches loops of costly library calls that stay
 *      under the instruction budget.
 *   3. Memory: the allocator refuses past the heap cap and any single block past BLOCK_LIMIT, so
 *      no one VM instruction (a compare, a concatenation, a hash) touches more than 16 MiB: with
 *      the hook every 100 instructions, the clock is read at least every ~100 x 16 MiB of work.
 *   4. None can be caught: once crossed, the limit is recorded, the hook raises it again at its
 *      next call, and the sandbox's pcall (the only catching function a case file has: no xpcall,
 *      no coroutines, no metatables) raises it again instead of returning false.
 *   5. Library calls that could run unbounded inside C, out of the hook's sight, are replaced:
 *      string patterns are gone (a pattern can backtrack exponentially: `a?` x 40), string.find
 *      finds plain text in linear time (memmem), string.rep of empty strings returns at once,
 *      table.move refuses ranges past MOVE_LIMIT, and table.sort compares through a function
 *      that reads the clock. Everything else is linear in memory the caps already bound.
 * SPDX-License-Identifier: MIT */
#define _GNU_SOURCE /* memmem */
#include "cases_sandbox.h"

#include <lualib.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MEMORY_LIMIT_BYTES ((size_t)512 << 20) /* a case file that needs more is runaway */
#define BLOCK_LIMIT_BYTES ((size_t)16 << 20)   /* one string or table part: a tier's are bytes */
#define HOOK_EVERY 100                         /* instructions between hook calls */
#define INSTRUCTION_LIMIT 300000000L /* about a second: far past the few million a real tier needs */
#define MOVE_LIMIT ((lua_Unsigned)1 << 24) /* table.move's elements per call */
#define TICKS_PER_CLOCK 16                 /* mc_sandbox_tick reads the clock this often */
#define PATTERN_SPECIALS "^$*+?.([%-"      /* what makes a string.find argument a pattern */

/* ---- the state and its limits ---- */

static void *capped_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    mc_sandbox *sb = ud;
    size_t old = ptr ? osize : 0; /* without ptr, osize is a type tag, not a size */
    if (nsize == 0) {
        free(ptr);
        sb->memory_bytes -= old;
        return NULL;
    }
    if (nsize > old && (nsize > BLOCK_LIMIT_BYTES || sb->memory_bytes - old + nsize > MEMORY_LIMIT_BYTES)) {
        sb->refused_bytes = nsize;
        sb->refused_for_size = nsize > BLOCK_LIMIT_BYTES;
        return NULL;
    }
    void *p = realloc(ptr, nsize);
    if (p)
        sb->memory_bytes = sb->memory_bytes - old + nsize;
    return p;
}

mc_sandbox *mc_sandbox_of(lua_State *L)
{
    mc_sandbox *sb;
    memcpy(&sb, lua_getextraspace(L), sizeof sb);
    return sb;
}

lua_State *mc_sandbox_open(mc_sandbox *sb, void *user, double wall_limit_s)
{
    memset(sb, 0, sizeof *sb);
    sb->user = user;
    sb->wall_limit_s = wall_limit_s;
    clock_gettime(CLOCK_MONOTONIC, &sb->deadline);
    long long ns = sb->deadline.tv_nsec + (long long)(wall_limit_s * 1e9);
    sb->deadline.tv_sec += (time_t)(ns / 1000000000);
    sb->deadline.tv_nsec = (long)(ns % 1000000000);
    lua_State *L = lua_newstate(capped_alloc, sb);
    if (L)
        memcpy(lua_getextraspace(L), &sb, sizeof sb);
    return L;
}

static bool past_deadline(const mc_sandbox *sb)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > sb->deadline.tv_sec ||
           (now.tv_sec == sb->deadline.tv_sec && now.tv_nsec >= sb->deadline.tv_nsec);
}

static int raise_limit(lua_State *L)
{
    lua_pushstring(L, mc_sandbox_of(L)->limit_msg);
    return lua_error(L);
}

int mc_sandbox_trip(lua_State *L, mc_sandbox_limit kind, const char *msg)
{
    mc_sandbox *sb = mc_sandbox_of(L);
    if (sb->limit == MC_SANDBOX_OK) {
        sb->limit = kind;
        snprintf(sb->limit_msg, sizeof sb->limit_msg, "%s", msg);
    }
    return raise_limit(L);
}

/* Trips kind with "file:line: " of the innermost Lua function in front of what. Builds the text
 * in C: near the memory cap, Lua could not allocate it. */
static void trip_here(lua_State *L, mc_sandbox_limit kind, const char *what)
{
    char msg[sizeof mc_sandbox_of(L)->limit_msg];
    lua_Debug ar;
    msg[0] = '\0';
    for (int level = 0; lua_getstack(L, level, &ar); level++) {
        lua_getinfo(L, "Sl", &ar);
        if (ar.currentline > 0) {
            snprintf(msg, sizeof msg, "%s:%d: ", ar.short_src, ar.currentline);
            break;
        }
    }
    size_t len = strlen(msg);
    snprintf(msg + len, sizeof msg - len, "%s", what);
    mc_sandbox_trip(L, kind, msg);
}

static void trip_wall(lua_State *L)
{
    char what[160];
    snprintf(what, sizeof what, "case file ran past its %g s wall-clock limit (a loop of costly library calls?)",
             mc_sandbox_of(L)->wall_limit_s);
    trip_here(L, MC_SANDBOX_WALL, what);
}

static void count_hook(lua_State *L, lua_Debug *ar)
{
    mc_sandbox *sb = mc_sandbox_of(L);
    if (sb->limit != MC_SANDBOX_OK)
        raise_limit(L);
    if (++sb->hook_calls > INSTRUCTION_LIMIT / HOOK_EVERY) {
        char what[120];
        snprintf(what, sizeof what, "case file ran past %d million Lua instructions (an endless loop?)",
                 (int)(INSTRUCTION_LIMIT / 1000000));
        trip_here(L, MC_SANDBOX_INSTRUCTIONS, what);
    }
    if (past_deadline(sb))
        trip_wall(L);
}

void mc_sandbox_tick(lua_State *L)
{
    mc_sandbox *sb = mc_sandbox_of(L);
    if (sb->limit != MC_SANDBOX_OK)
        raise_limit(L);
    if (++sb->ticks % TICKS_PER_CLOCK == 0 && past_deadline(sb))
        trip_wall(L);
}

static void memory_text(const mc_sandbox *sb, char *out, size_t out_len)
{
    if (sb->refused_for_size)
        snprintf(out, out_len,
                 "the case file asked for one block of %zu MiB of Lua memory (a string or table may hold at most "
                 "%zu MiB)",
                 sb->refused_bytes >> 20, BLOCK_LIMIT_BYTES >> 20);
    else
        snprintf(out, out_len, "the case file needed more than %zu MiB of Lua memory", MEMORY_LIMIT_BYTES >> 20);
}

void mc_sandbox_after_pcall(lua_State *L, int rc)
{
    mc_sandbox *sb = mc_sandbox_of(L);
    if (rc == LUA_ERRMEM && sb->limit == MC_SANDBOX_OK) {
        sb->limit = MC_SANDBOX_MEMORY;
        memory_text(sb, sb->limit_msg, sizeof sb->limit_msg);
    }
    if (sb->limit != MC_SANDBOX_OK)
        raise_limit(L);
}

void mc_sandbox_memory_message(const mc_sandbox *sb, const char *path, char *out, size_t out_len)
{
    char what[300];
    memory_text(sb, what, sizeof what);
    snprintf(out, out_len, "%s: %s", path, what);
}

/* ---- the bounded library ---- */

/* pcall, except that a crossed limit is raised again rather than returned as false. */
static int sandbox_pcall(lua_State *L)
{
    luaL_checkany(L, 1);
    lua_pushboolean(L, 1);
    lua_insert(L, 1);
    int rc = lua_pcall(L, lua_gettop(L) - 2, LUA_MULTRET, 0);
    if (rc == LUA_OK)
        return lua_gettop(L);
    mc_sandbox_after_pcall(L, rc);
    lua_pushboolean(L, 0);
    lua_pushvalue(L, -2);
    return 2;
}

static bool has_pattern_specials(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (p[i] && strchr(PATTERN_SPECIALS, p[i]))
            return true;
    return false;
}

/* string.find(s, text [, init [, plain]]) for plain text only, in linear time. A text with pattern
 * characters needs plain = true: read as a pattern it would mean something else. */
static int bounded_find(lua_State *L)
{
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    lua_Integer init = luaL_optinteger(L, 3, 1);
    if (!lua_toboolean(L, 4) && has_pattern_specials(p, lp))
        return luaL_error(L, "string.find: patterns are not available in case files (their matching time has no "
                             "bound); pass plain = true to find the text as it is: string.find(s, text, 1, true)");
    if (init == 0 || (init < 0 && (lua_Unsigned)0 - (lua_Unsigned)init > ls)) /* Lua's rule: before the start */
        init = 1;
    else if (init < 0)
        init = (lua_Integer)ls + init + 1;
    if ((lua_Unsigned)init > ls + 1) {
        luaL_pushfail(L);
        return 1;
    }
    const char *hit = memmem(s + init - 1, ls - (size_t)(init - 1), p, lp);
    if (!hit) {
        luaL_pushfail(L);
        return 1;
    }
    lua_pushinteger(L, (lua_Integer)(hit - s) + 1);
    lua_pushinteger(L, (lua_Integer)(hit - s) + (lua_Integer)lp);
    return 2;
}

static int no_patterns(lua_State *L)
{
    return luaL_error(L, "string.%s: patterns are not available in case files (their matching time has no bound; "
                         "docs/cases.md)",
                      lua_tostring(L, lua_upvalueindex(1)));
}

/* Calls the original library function (upvalue 1) with this call's arguments. */
static int call_original(lua_State *L)
{
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

/* string.rep: the original loops n times even when every piece is empty. */
static int bounded_rep(lua_State *L)
{
    size_t l, lsep;
    luaL_checklstring(L, 1, &l);
    lua_Integer n = luaL_checkinteger(L, 2);
    luaL_optlstring(L, 3, "", &lsep);
    if (n > 0 && l + lsep == 0) {
        lua_pushliteral(L, "");
        return 1;
    }
    return call_original(L);
}

/* table.move: the original loops over the whole range, even over empty slots. */
static int bounded_move(lua_State *L)
{
    lua_Integer f = luaL_checkinteger(L, 2), e = luaL_checkinteger(L, 3);
    if (e >= f && (lua_Unsigned)e - (lua_Unsigned)f >= MOVE_LIMIT)
        return luaL_error(L, "table.move: %I elements are more than a case file may move at once (%I)",
                          (lua_Integer)((lua_Unsigned)e - (lua_Unsigned)f + 1), (lua_Integer)MOVE_LIMIT);
    return call_original(L);
}

/* The comparison table.sort makes, through the clock: upvalue 1 is the file's own function or nil. */
static int checked_less(lua_State *L)
{
    mc_sandbox_tick(L);
    if (lua_isnil(L, lua_upvalueindex(1))) {
        lua_pushboolean(L, lua_compare(L, 1, 2, LUA_OPLT));
        return 1;
    }
    lua_settop(L, 2);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, 2, 1);
    return 1;
}

static int bounded_sort(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    if (!lua_isnoneornil(L, 2))
        luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_settop(L, 2);
    lua_pushcclosure(L, checked_less, 1); /* takes the comparator (or nil) along */
    return call_original(L);
}

/* Replaces lib[name] by f, given the original as its upvalue. */
static void wrap(lua_State *L, int lib, const char *name, lua_CFunction f)
{
    lua_getfield(L, lib, name);
    lua_pushcclosure(L, f, 1);
    lua_setfield(L, lib, name);
}

void mc_sandbox_install(lua_State *L)
{
    static const luaL_Reg libs[] = {
        {LUA_GNAME, luaopen_base}, {LUA_TABLIBNAME, luaopen_table}, {LUA_STRLIBNAME, luaopen_string},
        {LUA_MATHLIBNAME, luaopen_math}, {LUA_UTF8LIBNAME, luaopen_utf8}, {NULL, NULL},
    };
    for (const luaL_Reg *lib = libs; lib->name; lib++) {
        luaL_requiref(L, lib->name, lib->func, 1);
        lua_pop(L, 1);
    }
    /* The real string table is also every string's __index: ("").match must go as well. */
    lua_getglobal(L, LUA_STRLIBNAME);
    int str = lua_gettop(L);
    lua_pushnil(L);
    lua_setfield(L, str, "dump"); /* makes bytecode */
    lua_pushcfunction(L, bounded_find);
    lua_setfield(L, str, "find");
    static const char *const pattern_functions[] = {"match", "gmatch", "gsub", NULL};
    for (int i = 0; pattern_functions[i]; i++) {
        lua_pushstring(L, pattern_functions[i]);
        lua_pushcclosure(L, no_patterns, 1);
        lua_setfield(L, str, pattern_functions[i]);
    }
    wrap(L, str, "rep", bounded_rep);
    lua_getglobal(L, LUA_TABLIBNAME);
    wrap(L, lua_gettop(L), "move", bounded_move);
    wrap(L, lua_gettop(L), "sort", bounded_sort);
    lua_pop(L, 2);
    lua_pushcfunction(L, sandbox_pcall);
    lua_setglobal(L, "pcall");
    lua_sethook(L, count_hook, LUA_MASKCOUNT, HOOK_EVERY);
}

/* ---- a file's environment ---- */

static const char *const safe_functions[] = {
    "assert", "error", "ipairs", "next", "pairs", "pcall", "select", "tonumber", "tostring", "type", NULL,
};
static const char *const none_left_out[] = {NULL};
/* random is seeded from the clock when a state opens: cases would change from run to run */
static const char *const math_left_out[] = {"random", "randomseed", NULL};

typedef struct safe_lib {
    const char *name;
    const char *const *left_out;
} safe_lib;

static const safe_lib safe_libs[] = {
    {"math", math_left_out},
    {"string", none_left_out}, /* made safe in place by mc_sandbox_install */
    {"table", none_left_out},
    {"utf8", none_left_out},
    {NULL, NULL},
};

static bool name_listed(const char *const *names, const char *name)
{
    for (; *names; names++)
        if (strcmp(*names, name) == 0)
            return true;
    return false;
}

/* Pushes a fresh copy of library `lib` (a global of the private state) without its unsafe entries. */
static void push_library_copy(lua_State *L, const safe_lib *lib)
{
    lua_newtable(L);
    lua_getglobal(L, lib->name);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        if (lua_type(L, -2) == LUA_TSTRING && !name_listed(lib->left_out, lua_tostring(L, -2))) {
            lua_pushvalue(L, -2);
            lua_insert(L, -2);
            lua_rawset(L, -5);
        } else {
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
}

void mc_sandbox_push_env(lua_State *L, const luaL_Reg *extra)
{
    lua_newtable(L);
    for (int i = 0; safe_functions[i]; i++) {
        lua_getglobal(L, safe_functions[i]);
        lua_setfield(L, -2, safe_functions[i]);
    }
    for (const safe_lib *lib = safe_libs; lib->name; lib++) {
        push_library_copy(L, lib);
        lua_setfield(L, -2, lib->name);
    }
    luaL_setfuncs(L, extra, 0);
}
