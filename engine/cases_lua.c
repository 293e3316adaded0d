/* engine/cases_lua.c: the Lua case loader: a sandbox, `suite` expansion and the cases folder.
 *
 * How one load works:
 *   1. mc_cases_load_file makes a private Lua state (cases_sandbox.c: memory, instruction and
 *      wall-clock limits no file can catch, a library of bounded calls) and runs load_main under
 *      lua_pcall with a message handler: the one protected boundary. Every error below it
 *      unwinds to there as "file:line: what".
 *   2. Every file (the tier, an included tier, a library module) is loaded as text only (mode
 *      "t": no bytecode) and runs in a fresh environment that holds only safe functions plus
 *      suite, include and require. The real globals are never visible to a case file.
 *   3. suite expands its table at once, in the op's schema order (first parameter slowest, last
 *      fastest), never in Lua's table order, which is unspecified. Each combination is filtered
 *      by `where` (which sees a read-only case and must answer true or false), validated by the
 *      op and added to the loader's own list, which holds at most the caller's case cap.
 *   4. Only a load that finishes appends its cases to the caller's list, so a failed load leaves
 *      that list as it was.
 * SPDX-License-Identifier: MIT */
#include "cases_lua.h"

#include <errno.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cases_sandbox.h"
#include "core/op.h"

#define PATH_LEN 4096
#define VALUE_TEXT_LEN 48                      /* a value written as text: ample for %.17g */
#define MAX_INCLUDE_DEPTH 8                    /* tiers including tiers; deeper is a mistake */

typedef struct loader {
    mc_sandbox sb;                             /* the state's limits */
    double wall_limit_s;                       /* its deadline, from the start of the load */
    mc_op_finder find_op;
    char tier_dir[PATH_LEN];                   /* where `include` looks */
    char lib_dir[PATH_LEN];                    /* where `require` looks */
    char including[MAX_INCLUDE_DEPTH][PATH_LEN]; /* the files being run, outermost first */
    int depth;
    mc_case_list cases;                        /* what this load found, in file order */
    mc_status status;                          /* a non-Lua failure behind the error, if any */
} loader;

static const char MODULES_KEY[] = "mc.cases.modules"; /* registry: name -> a module's value */
static const char PENDING_KEY[] = "mc.cases.pending"; /* registry: suite body -> "file:line: suite 'x'" */

/* ---- the state and error messages ---- */

static loader *loader_of(lua_State *L)
{
    return mc_sandbox_of(L)->user;
}

/* Pushes and returns "file:line: " of the innermost Lua function above the running one ("" if
 * none). Unlike luaL_where(L, 1) it looks past C callers, as in pcall(suite, "name", {...}). */
static const char *push_position(lua_State *L)
{
    lua_Debug ar;
    for (int level = 1; lua_getstack(L, level, &ar); level++) {
        lua_getinfo(L, "Sl", &ar);
        if (ar.currentline > 0)
            return lua_pushfstring(L, "%s:%d: ", ar.short_src, ar.currentline);
    }
    return lua_pushstring(L, "");
}

/* Turns an error object into one "file:line: what" string. Messages from error() and luaL_error
 * already carry their position; other objects get the innermost Lua position in front. */
static int message_handler(lua_State *L)
{
    if (lua_type(L, 1) == LUA_TSTRING)
        return 1;
    const char *where = push_position(L);
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
        lua_pushfstring(L, "%s%s", where, lua_tostring(L, -1));
    else
        lua_pushfstring(L, "%s(error object is a %s value)", where, luaL_typename(L, 1));
    return 1;
}

/* ---- the files ---- */

static int lua_suite(lua_State *L);
static int lua_include(lua_State *L);
static int lua_require(lua_State *L);

static const luaL_Reg case_functions[] = {
    {"suite", lua_suite},
    {"include", lua_include},
    {"require", lua_require},
    {"import", lua_require},
    {NULL, NULL},
};

/* Loads path as a text chunk, runs it in a fresh sandbox and leaves its one result on the stack. */
static void run_file(lua_State *L, const char *path)
{
    if (luaL_loadfilex(L, path, "t") != LUA_OK)
        lua_error(L);
    mc_sandbox_push_env(L, case_functions);
    lua_setupvalue(L, -2, 1); /* a main chunk's only upvalue is its _ENV */
    lua_call(L, 0, 1);
}

static bool file_readable(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, R_OK) == 0;
}

/* Names given to include and require are plain words, so they cannot leave their folder. */
static void check_plain_name(lua_State *L, const char *fn, const char *name)
{
    size_t n = strlen(name);
    bool ok = n > 0 && n < 64;
    for (size_t i = 0; ok && i < n; i++) {
        char ch = name[i];
        ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
             ch == '-';
    }
    if (!ok)
        luaL_error(L, "%s \"%s\": a name may hold only letters, digits, '_' and '-'", fn, name);
}

/* include "quick": runs <tier dir>/quick.lua here, adding its suites in place. */
static int lua_include(lua_State *L)
{
    loader *ld = loader_of(L);
    const char *name = luaL_checkstring(L, 1);
    check_plain_name(L, "include", name);
    char path[PATH_LEN];
    if (snprintf(path, sizeof path, "%s/%s.lua", ld->tier_dir, name) >= (int)sizeof path)
        return luaL_error(L, "include \"%s\": path too long", name);
    for (int i = 0; i < ld->depth; i++)
        if (strcmp(ld->including[i], path) == 0)
            return luaL_error(L, "include \"%s\": %s is already being loaded (an include cycle)", name, path);
    if (ld->depth == MAX_INCLUDE_DEPTH)
        return luaL_error(L, "include \"%s\": includes nest deeper than %d", name, MAX_INCLUDE_DEPTH);
    if (!file_readable(path))
        return luaL_error(L, "include \"%s\": no readable case file %s", name, path);
    snprintf(ld->including[ld->depth++], PATH_LEN, "%s", path);
    run_file(L, path);
    ld->depth--;
    return 0;
}

/* require "sizes": runs <lib dir>/sizes.lua once per load and returns its value (true if none). */
static int lua_require(lua_State *L)
{
    loader *ld = loader_of(L);
    const char *name = luaL_checkstring(L, 1);
    check_plain_name(L, "require", name);
    lua_getfield(L, LUA_REGISTRYINDEX, MODULES_KEY);
    int modules = lua_gettop(L);
    int kind = lua_getfield(L, modules, name);
    if (kind == LUA_TBOOLEAN && !lua_toboolean(L, -1))
        return luaL_error(L, "require \"%s\": the module requires itself (a require cycle)", name);
    if (kind != LUA_TNIL)
        return 1;
    lua_pop(L, 1);
    char path[PATH_LEN];
    if (snprintf(path, sizeof path, "%s/%s.lua", ld->lib_dir, name) >= (int)sizeof path)
        return luaL_error(L, "require \"%s\": path too long", name);
    if (!file_readable(path))
        return luaL_error(L, "require \"%s\": no readable library module %s", name, path);
    lua_pushboolean(L, 0); /* marks "loading" to catch cycles */
    lua_setfield(L, modules, name);
    run_file(L, path);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_pushboolean(L, 1);
    }
    lua_pushvalue(L, -1);
    lua_setfield(L, modules, name);
    return 1;
}

/* ---- suite expansion ---- */

/* One parameter the suite lists, with its values as text. */
typedef struct axis {
    int param; /* index in the op's schema */
    int count; /* number of values */
    int first; /* index of its first value in the suite's text table */
} axis;

typedef struct suite_plan {
    const mc_op *op;
    const char *name;
    const char *where; /* "file:line:" of the suite call */
    int table;         /* stack index of the suite table */
    int where_fn;      /* stack index of the where function, or 0 */
    axis axes[MC_MAX_PARAMS];
    int n_axes;
    char (*texts)[VALUE_TEXT_LEN];
} suite_plan;

static int suite_error(lua_State *L, const suite_plan *p, const char *what)
{
    lua_pushfstring(L, "%ssuite '%s': %s", p->where, p->name, what); /* where ends in ": " */
    return lua_error(L);
}

/* Shortest decimal that reads back to exactly d. */
static void format_shortest(double d, char *out, size_t n)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, n, "%.*g", prec, d);
        if (strtod(out, NULL) == d)
            return;
    }
}

/* Writes the Lua value at idx as the text mc_case_set reads for a parameter of type t. Returns
 * what was wanted when the value has the wrong type, else NULL. */
static const char *value_text(lua_State *L, int idx, mc_ptype t, char out[VALUE_TEXT_LEN])
{
    int lt = lua_type(L, idx);
    if (t == MC_PARAM_STR) {
        if (lt != LUA_TSTRING)
            return "a word (a string)";
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        if (len >= VALUE_TEXT_LEN || strlen(s) != len)
            return "a short word";
        memcpy(out, s, len + 1);
        return NULL;
    }
    if (t == MC_PARAM_INT && lt == LUA_TBOOLEAN) { /* flags may be written true/false */
        snprintf(out, VALUE_TEXT_LEN, "%d", lua_toboolean(L, idx));
        return NULL;
    }
    const char *wanted = t == MC_PARAM_INT ? "an integer" : "a number";
    if (lt != LUA_TNUMBER)
        return wanted;
    if (lua_isinteger(L, idx)) {
        snprintf(out, VALUE_TEXT_LEN, "%lld", (long long)lua_tointeger(L, idx));
        return NULL;
    }
    double d = lua_tonumber(L, idx);
    if (isnan(d))
        return wanted;
    if (t == MC_PARAM_NUM) {
        format_shortest(d, out, VALUE_TEXT_LEN);
        return NULL;
    }
    /* 1e6 is a float in Lua; it is still the integer 1000000 */
    if (!(d >= -9.0e18 && d <= 9.0e18) || d != floor(d))
        return wanted;
    snprintf(out, VALUE_TEXT_LEN, "%lld", (long long)d);
    return NULL;
}

/* Every entry of a suite table is name = value: a bare value is most likely a misplaced list. */
static void check_entries_named(lua_State *L, const suite_plan *p)
{
    lua_pushnil(L);
    while (lua_next(L, p->table)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING)
            suite_error(L, p, "every entry needs a name (write name = value; lists go inside a name)");
    }
}

/* Checks that every key of the suite table is op, where or a parameter of the op. Unknown keys
 * are reported smallest first, so the message does not depend on table order. */
static void check_suite_keys(lua_State *L, const suite_plan *p)
{
    const char *unknown = NULL;
    lua_pushnil(L);
    while (lua_next(L, p->table)) {
        lua_pop(L, 1);
        const char *key = lua_tostring(L, -1);
        bool known = strcmp(key, "op") == 0 || strcmp(key, "where") == 0 || mc_case_param_index(p->op, key) >= 0;
        if (!known && (!unknown || strcmp(key, unknown) < 0))
            unknown = key; /* still anchored: it is a key of the table */
    }
    if (!unknown)
        return;
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 0; i < p->op->n_params; i++) {
        luaL_addstring(&b, i ? ", " : "");
        luaL_addstring(&b, p->op->params[i].name);
    }
    luaL_pushresult(&b);
    lua_pushfstring(L, "op '%s' has no parameter '%s' (it has: %s; and op, where)", p->op->name, unknown,
                    lua_tostring(L, -1));
    suite_error(L, p, lua_tostring(L, -1));
}

static int value_count(lua_State *L, const suite_plan *p, int idx, const char *param)
{
    if (lua_type(L, idx) != LUA_TTABLE)
        return 1;
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
    lua_Integer entries = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        entries++;
    }
    if (n == 0 || entries != n) {
        lua_pushfstring(L, "parameter '%s' wants a value or a non-empty list {v1, v2, ...}", param);
        suite_error(L, p, lua_tostring(L, -1));
    }
    return (int)n;
}

static void add_value_text(lua_State *L, suite_plan *p, int idx, const mc_param_def *def, char *out)
{
    const char *wanted = value_text(L, idx, def->type, out);
    if (!wanted)
        return;
    lua_pushfstring(L, "parameter '%s' of op '%s' wants %s, got %s '%s'", def->name, p->op->name, wanted,
                    luaL_typename(L, idx), luaL_tolstring(L, idx, NULL));
    suite_error(L, p, lua_tostring(L, -1));
}

/* Reads every listed parameter, in schema order, into axes and texts (a userdata left on the stack). */
static void read_axes(lua_State *L, suite_plan *p)
{
    int total = 0;
    for (int i = 0; i < p->op->n_params; i++) {
        lua_getfield(L, p->table, p->op->params[i].name);
        if (!lua_isnil(L, -1)) {
            axis *a = &p->axes[p->n_axes++];
            a->param = i;
            a->count = value_count(L, p, lua_gettop(L), p->op->params[i].name);
            a->first = total;
            if (a->count > MC_SUITE_MAX_COMBINATIONS)
                suite_error(L, p, "a list is longer than the combination limit");
            total += a->count;
        }
        lua_pop(L, 1);
    }
    p->texts = lua_newuserdatauv(L, (size_t)(total ? total : 1) * sizeof *p->texts, 0);
    for (int k = 0; k < p->n_axes; k++) {
        const axis *a = &p->axes[k];
        const mc_param_def *def = &p->op->params[a->param];
        lua_getfield(L, p->table, def->name);
        int v = lua_gettop(L);
        if (lua_type(L, v) != LUA_TTABLE) {
            add_value_text(L, p, v, def, p->texts[a->first]);
        } else {
            for (int j = 0; j < a->count; j++) {
                lua_rawgeti(L, v, j + 1);
                add_value_text(L, p, lua_gettop(L), def, p->texts[a->first + j]);
                lua_pop(L, 1);
            }
        }
        lua_pop(L, 1);
    }
}

/* Errors unless the cross product stays within MC_SUITE_MAX_COMBINATIONS. */
static void check_combination_count(lua_State *L, const suite_plan *p)
{
    long long n = 1;
    for (int k = 0; k < p->n_axes; k++) {
        n *= p->axes[k].count;
        if (n > MC_SUITE_MAX_COMBINATIONS) {
            lua_pushfstring(L, "the lists make more than %d combinations; split the suite or shorten its lists",
                            MC_SUITE_MAX_COMBINATIONS);
            suite_error(L, p, lua_tostring(L, -1));
        }
    }
}

/* Pushes the table `where` sees: every parameter (defaults included) with its typed value. */
static void push_case_table(lua_State *L, const mc_case *c)
{
    const mc_op *op = c->op;
    lua_createtable(L, 0, op->n_params + 1);
    lua_pushstring(L, op->name);
    lua_setfield(L, -2, "op");
    for (int i = 0; i < op->n_params; i++) {
        if (op->params[i].type == MC_PARAM_INT)
            lua_pushinteger(L, (lua_Integer)mc_case_int(c, i));
        else if (op->params[i].type == MC_PARAM_NUM)
            lua_pushnumber(L, mc_case_num(c, i));
        else
            lua_pushstring(L, mc_case_str(c, i));
        lua_setfield(L, -2, op->params[i].name);
    }
}

/* __newindex of the case where() sees: where decides, it never edits (an edit would be lost). */
static int case_is_read_only(lua_State *L)
{
    return luaL_error(L, "where() must not change its case (it set '%s'): it only answers whether to keep it",
                      luaL_tolstring(L, 2, NULL));
}

/* __pairs of that case: walks the table behind it. */
static int case_pairs(lua_State *L)
{
    lua_getglobal(L, "next");
    lua_getmetatable(L, 1);
    lua_getfield(L, -1, "__index");
    lua_remove(L, -2);
    lua_pushnil(L);
    return 3;
}

/* Pushes the case table behind an empty, read-only proxy. */
static void push_read_only_case(lua_State *L, const mc_case *c)
{
    lua_newtable(L);
    lua_createtable(L, 0, 3);
    push_case_table(L, c);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, case_is_read_only);
    lua_setfield(L, -2, "__newindex");
    lua_pushcfunction(L, case_pairs);
    lua_setfield(L, -2, "__pairs");
    lua_setmetatable(L, -2);
}

/* where(c) must answer true or false: nil (a forgotten return) would silently drop every case. */
static bool where_keeps(lua_State *L, const suite_plan *p, const mc_case *c)
{
    if (!p->where_fn)
        return true;
    lua_pushvalue(L, p->where_fn);
    push_read_only_case(L, c);
    int rc = lua_pcall(L, 1, 1, 0);
    if (rc != LUA_OK) {
        mc_sandbox_after_pcall(L, rc); /* a limit stays a limit */
        const char *msg = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "(a non-string error)";
        lua_pushfstring(L, "where() failed: %s", msg);
        suite_error(L, p, lua_tostring(L, -1));
    }
    if (lua_type(L, -1) != LUA_TBOOLEAN) {
        const char *got = luaL_typename(L, -1);
        lua_Debug ar;
        lua_pushvalue(L, p->where_fn);
        lua_getinfo(L, ">S", &ar);
        lua_pushfstring(L, "where() must return true or false, got %s (its function starts at %s:%d)", got,
                        ar.short_src, ar.linedefined);
        suite_error(L, p, lua_tostring(L, -1));
    }
    bool keep = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return keep;
}

/* Sets the combination idx on a copy of base, filters, validates and lists it. */
static void add_combination(lua_State *L, loader *ld, const suite_plan *p, const mc_case *base, const int idx[])
{
    mc_case c = *base;
    mc_err e = {0};
    mc_sandbox_tick(L);
    for (int k = 0; k < p->n_axes; k++) {
        const axis *a = &p->axes[k];
        if (mc_case_set(&c, p->op->params[a->param].name, p->texts[a->first + idx[k]], &e))
            suite_error(L, p, e.msg);
    }
    if (!where_keeps(L, p, &c))
        return;
    if (mc_case_finish(&c, &e)) {
        lua_pushfstring(L, "%s (case %s)", e.msg, c.key);
        suite_error(L, p, lua_tostring(L, -1));
    }
    if (mc_case_list_add(&ld->cases, &c, &e)) { /* the case cap: no pcall may swallow it */
        ld->status = e.status;
        lua_pushfstring(L, "%ssuite '%s': %s", p->where, p->name, e.msg);
        mc_sandbox_trip(L, MC_SANDBOX_CASES, lua_tostring(L, -1));
    }
}

/* Walks the cross product like an odometer: the last axis (last in schema order) turns fastest. */
static void expand(lua_State *L, loader *ld, const suite_plan *p)
{
    mc_case base;
    mc_err e = {0};
    if (mc_case_init(&base, p->op, &e))
        suite_error(L, p, e.msg);
    for (int k = 0; k < p->n_axes; k++) /* type and range errors before any case is made */
        for (int j = 0; j < p->axes[k].count; j++) {
            mc_case probe = base;
            if (mc_case_set(&probe, p->op->params[p->axes[k].param].name, p->texts[p->axes[k].first + j], &e))
                suite_error(L, p, e.msg);
        }
    int idx[MC_MAX_PARAMS] = {0};
    for (;;) {
        add_combination(L, ld, p, &base, idx);
        int k = p->n_axes - 1;
        while (k >= 0 && ++idx[k] == p->axes[k].count)
            idx[k--] = 0;
        if (k < 0)
            return;
    }
}

static void read_op(lua_State *L, suite_plan *p)
{
    loader *ld = loader_of(L);
    lua_getfield(L, p->table, "op");
    if (lua_type(L, -1) != LUA_TSTRING) {
        lua_pushfstring(L, "'op' must name an op (a string), got %s", luaL_typename(L, -1));
        suite_error(L, p, lua_tostring(L, -1));
    }
    p->op = ld->find_op(lua_tostring(L, -1));
    if (!p->op) {
        lua_pushfstring(L, "unknown op '%s'", lua_tostring(L, -1));
        suite_error(L, p, lua_tostring(L, -1));
    }
    lua_pop(L, 1);
}

/* Expands suite `name` from the table at index 2. */
static int expand_suite(lua_State *L, const char *name)
{
    suite_plan p = {.name = name, .table = 2};
    p.where = push_position(L);
    check_entries_named(L, &p);
    read_op(L, &p);
    check_suite_keys(L, &p);
    lua_getfield(L, p.table, "where");
    if (!lua_isnil(L, -1) && !lua_isfunction(L, -1))
        suite_error(L, &p, "'where' must be a function(c) returning true to keep a combination");
    p.where_fn = lua_isnil(L, -1) ? 0 : lua_gettop(L);
    read_axes(L, &p);
    check_combination_count(L, &p);
    expand(L, loader_of(L), &p);
    return 0;
}

static int lua_suite_body(lua_State *L)
{
    const char *name = lua_tostring(L, lua_upvalueindex(1));
    lua_Debug self;
    lua_getfield(L, LUA_REGISTRYINDEX, PENDING_KEY);
    if (lua_getstack(L, 0, &self) && lua_getinfo(L, "f", &self)) { /* pushes this closure */
        lua_pushnil(L);
        lua_rawset(L, -3);
    }
    lua_pop(L, 1);
    if (!lua_istable(L, 1)) {
        push_position(L);
        lua_pushfstring(L, "%ssuite '%s' wants a table { op = ..., ... }, got %s", lua_tostring(L, -1), name,
                        luaL_typename(L, 1));
        return lua_error(L);
    }
    lua_settop(L, 1);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1); /* the name at 1 and the table at 2, as suite("name", {...}) has them */
    return expand_suite(L, name);
}

/* suite "name" { ... } (a call that returns the body function) or suite("name", { ... }). */
static int lua_suite(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TSTRING);
    const char *name = lua_tostring(L, 1);
    if (lua_gettop(L) >= 2) {
        luaL_checktype(L, 2, LUA_TTABLE);
        lua_settop(L, 2);
        return expand_suite(L, name);
    }
    lua_settop(L, 1);
    lua_pushcclosure(L, lua_suite_body, 1);
    /* remembered until called, so a suite whose table was forgotten is an error, not zero cases */
    lua_getfield(L, LUA_REGISTRYINDEX, PENDING_KEY);
    lua_pushvalue(L, -2);
    push_position(L);
    lua_pushfstring(L, "%ssuite '%s'", lua_tostring(L, -1), name);
    lua_remove(L, -2);
    lua_rawset(L, -3);
    lua_pop(L, 1);
    return 1;
}

/* Errors when a suite "name" was never given its table; the first by position is named. */
static void check_no_pending_suite(lua_State *L)
{
    const char *first = NULL;
    lua_getfield(L, LUA_REGISTRYINDEX, PENDING_KEY);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        const char *s = lua_tostring(L, -1);
        if (!first || strcmp(s, first) < 0)
            first = s; /* anchored as a value of the pending table */
        lua_pop(L, 1);
    }
    if (first) {
        lua_pushfstring(L, "%s was never given its table (write suite \"name\" { op = ..., ... })", first);
        lua_error(L);
    }
    lua_pop(L, 1);
}

/* ---- the protected boundary ---- */

static int load_main(lua_State *L)
{
    loader *ld = loader_of(L);
    const char *path = lua_tostring(L, 1);
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, MODULES_KEY);
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, PENDING_KEY);
    mc_sandbox_install(L); /* last: from here on, the limits count */
    snprintf(ld->including[0], PATH_LEN, "%s", path);
    ld->depth = 1;
    run_file(L, path);
    check_no_pending_suite(L);
    return 0;
}

static mc_status copy_path(char *out, size_t out_len, const char *path, mc_err *err)
{
    if (snprintf(out, out_len, "%s", path) >= (int)out_len)
        return mc_err_set(err, MC_ERR_CONFIG, "path too long: %s", path);
    return MC_OK;
}

/* The folder part of path ("." when it has none). */
static mc_status folder_of(const char *path, char *out, size_t out_len, mc_err *err)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return copy_path(out, out_len, ".", err);
    if (slash == path)
        return copy_path(out, out_len, "/", err);
    if ((size_t)(slash - path) >= out_len)
        return mc_err_set(err, MC_ERR_CONFIG, "path too long: %s", path);
    snprintf(out, out_len, "%.*s", (int)(slash - path), path);
    return MC_OK;
}

/* Moves the loader's cases onto out; on failure out is cut back to what it held. */
static mc_status append_cases(const char *path, const mc_case_list *found, mc_case_list *out, mc_err *err)
{
    int count = out->count, duplicates = out->duplicates;
    for (int i = 0; i < found->count; i++) {
        mc_status st = mc_case_list_add(out, &found->items[i], err);
        if (st) {
            mc_case_list_truncate(out, count);
            out->duplicates = duplicates;
            char what[sizeof err->msg];
            snprintf(what, sizeof what, "%s", err->msg);
            return mc_err_set(err, st, "%s: %s", path, what);
        }
    }
    out->duplicates += found->duplicates;
    return MC_OK;
}

static mc_status run_loader(loader *ld, const char *path, mc_err *err)
{
    lua_State *L = mc_sandbox_open(&ld->sb, ld, ld->wall_limit_s);
    if (!L)
        return mc_err_set(err, MC_ERR_NOMEM, "cannot make a Lua state for %s", path);
    mc_status st = MC_OK;
    lua_pushcfunction(L, message_handler);
    lua_pushcfunction(L, load_main);
    lua_pushstring(L, path);
    int rc = lua_pcall(L, 1, 0, 1);
    if (rc != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        if ((rc == LUA_ERRMEM || ld->sb.limit == MC_SANDBOX_MEMORY) && !ld->status) {
            char text[sizeof err->msg];
            mc_sandbox_memory_message(&ld->sb, path, text, sizeof text);
            st = mc_err_set(err, MC_ERR_LUA, "%s", text);
        } else
            st = mc_err_set(err, ld->status ? ld->status : MC_ERR_LUA, "%s", msg ? msg : "unknown Lua error");
    }
    lua_close(L);
    return st;
}

mc_status mc_cases_load_file_with_ops(const char *path, const char *lib_dir, mc_op_finder find_op,
                                      double wall_limit_s, mc_case_list *out, mc_err *err)
{
    if (!path || !find_op || !out)
        return mc_err_set(err, MC_ERR_INTERNAL, "mc_cases_load_file: path, find_op and out are required");
    if (!file_readable(path))
        return mc_err_set(err, MC_ERR_IO, "cannot read case file %s: %s", path,
                          access(path, F_OK) == 0 ? "not a readable file" : strerror(ENOENT));
    loader *ld = calloc(1, sizeof *ld);
    if (!ld)
        return mc_err_set(err, MC_ERR_NOMEM, "out of memory loading %s", path);
    ld->find_op = find_op;
    ld->wall_limit_s = wall_limit_s > 0 ? wall_limit_s : MC_CASES_WALL_LIMIT_S;
    ld->cases.max_count = mc_case_list_max(out); /* so a runaway file stops before the copy */
    mc_status st = folder_of(path, ld->tier_dir, sizeof ld->tier_dir, err);
    if (!st && lib_dir)
        st = copy_path(ld->lib_dir, sizeof ld->lib_dir, lib_dir, err);
    else if (!st && snprintf(ld->lib_dir, sizeof ld->lib_dir, "%s/lib", ld->tier_dir) >= (int)sizeof ld->lib_dir)
        st = mc_err_set(err, MC_ERR_CONFIG, "path too long: %s", path);
    if (!st)
        st = run_loader(ld, path, err);
    if (!st)
        st = append_cases(path, &ld->cases, out, err);
    mc_case_list_free(&ld->cases);
    free(ld);
    return st;
}

mc_status mc_cases_load_file(const char *path, const char *lib_dir, mc_case_list *out, mc_err *err)
{
    return mc_cases_load_file_with_ops(path, lib_dir, mc_op_find, 0, out, err);
}

/* ---- where the cases live ---- */

static bool is_folder(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool holds_quick_tier(const char *dir)
{
    char path[PATH_LEN];
    return snprintf(path, sizeof path, "%s/quick.lua", dir) < (int)sizeof path && file_readable(path);
}

/* Copies dir to out, tidied by realpath when it can be. */
static mc_status give_folder(const char *dir, char *out, size_t out_len, mc_err *err)
{
    char *real = realpath(dir, NULL);
    mc_status st = copy_path(out, out_len, real ? real : dir, err);
    free(real);
    return st;
}

mc_status mc_cases_dir(const char *explicit_dir, char *out, size_t out_len, mc_err *err)
{
    if (explicit_dir) {
        if (!is_folder(explicit_dir))
            return mc_err_set(err, MC_ERR_CONFIG, "cases folder %s is not a folder", explicit_dir);
        return give_folder(explicit_dir, out, out_len, err);
    }
    const char *env = getenv("MC_CASES_DIR");
    if (env && *env) {
        if (!is_folder(env))
            return mc_err_set(err, MC_ERR_CONFIG, "MC_CASES_DIR=%s is not a folder", env);
        return give_folder(env, out, out_len, err);
    }
    char exe[PATH_LEN], exe_dir[PATH_LEN], tried[4][PATH_LEN + 32];
    int n_tried = 0;
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        if (folder_of(exe, exe_dir, sizeof exe_dir, NULL) == MC_OK) {
            snprintf(tried[n_tried++], sizeof tried[0], "%s/../cases", exe_dir);
            snprintf(tried[n_tried++], sizeof tried[0], "%s/cases", exe_dir);
            /* installed (cmake --install): PREFIX/bin and PREFIX/share/metallic-check/cases */
            snprintf(tried[n_tried++], sizeof tried[0], "%s/../share/metallic-check/cases", exe_dir);
        }
    }
#ifdef MC_SOURCE_DIR
    snprintf(tried[n_tried++], sizeof tried[0], "%s/cases", MC_SOURCE_DIR);
#endif
    for (int i = 0; i < n_tried; i++)
        if (holds_quick_tier(tried[i]))
            return give_folder(tried[i], out, out_len, err);
    return mc_err_set(err, MC_ERR_CONFIG,
                      "no cases folder with quick.lua found (tried %s%s%s%s%s%s%s); set MC_CASES_DIR or name one",
                      n_tried > 0 ? tried[0] : "nothing", n_tried > 1 ? ", " : "", n_tried > 1 ? tried[1] : "",
                      n_tried > 2 ? ", " : "", n_tried > 2 ? tried[2] : "", n_tried > 3 ? ", " : "",
                      n_tried > 3 ? tried[3] : "");
}

static const char *const tier_names[] = {"quick", "precommit", "nightly", "perf", NULL};

mc_status mc_cases_load_tier(const char *tier, const char *cases_dir, mc_case_list *out, mc_err *err)
{
    bool known = false;
    for (int i = 0; tier && tier_names[i]; i++)
        known = known || strcmp(tier_names[i], tier) == 0;
    if (!known)
        return mc_err_set(err, MC_ERR_USAGE, "unknown tier '%s' (expected quick, precommit, nightly or perf)",
                          tier ? tier : "(none)");
    char dir[PATH_LEN], path[PATH_LEN + 32], lib[PATH_LEN + 8];
    mc_status st = cases_dir ? copy_path(dir, sizeof dir, cases_dir, err) : mc_cases_dir(NULL, dir, sizeof dir, err);
    if (st)
        return st;
    snprintf(path, sizeof path, "%s/%s.lua", dir, tier);
    snprintf(lib, sizeof lib, "%s/lib", dir);
    return mc_cases_load_file(path, lib, out, err);
}
