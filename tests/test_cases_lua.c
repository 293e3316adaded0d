/* tests/test_cases_lua.c: the Lua case loader and the tier files.
 * Focus: cross products expand in schema order and deterministically, `where` filters, values
 * become canonical text, duplicates drop, every error names file:line and what was wanted, the
 * sandbox holds (no os/io/load/bytecode, require stays in lib/), include and tiers work, and the
 * real quick tier covers every op, layout, alignment and dtype it promises.
 * SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <lauxlib.h>
#include <lua.h>

#include "engine/cases_lua.h"
#include "core/op.h"

/* ---- a fake op, so the loader is tested apart from the real schemas ---- */

static const mc_param_def fake_params[] = {
    {"dtype", MC_PARAM_STR, "f32", "element type"},
    {"m", MC_PARAM_INT, "8", "rows"},
    {"n", MC_PARAM_INT, "8", "columns"},
    {"scale", MC_PARAM_NUM, "1", "a factor"},
    {"flag", MC_PARAM_INT, "0", "a 0/1 switch"},
};

static mc_status fake_validate(const mc_case *c, mc_err *err)
{
    const char *dt = mc_case_str(c, 0);
    if (strcmp(dt, "f32") && strcmp(dt, "f16") && strcmp(dt, "bf16"))
        return mc_err_set(err, MC_ERR_CONFIG, "dtype must be f32, f16 or bf16, not %s", dt);
    if (mc_case_int(c, 1) < 1)
        return mc_err_set(err, MC_ERR_CONFIG, "m must be >= 1");
    return MC_OK;
}

static const mc_op fake_op = {
    .name = "fake", .params = fake_params, .n_params = 5, .validate = fake_validate,
};

static const mc_op *find_fake(const char *name)
{
    return strcmp(name, "fake") == 0 ? &fake_op : NULL;
}

/* ---- a scratch folder of case files ---- */

static char scratch[64];
static char created[128][512];
static int n_created;

static const char *scratch_path(const char *name)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", scratch, name);
    return path;
}

static void write_bytes(const char *name, const void *data, size_t len)
{
    const char *path = scratch_path(name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    for (int i = 0; i < n_created; i++)
        if (strcmp(created[i], path) == 0)
            return;
    assert_true(n_created < 128);
    snprintf(created[n_created++], sizeof created[0], "%s", path);
}

static void write_file(const char *name, const char *text)
{
    write_bytes(name, text, strlen(text));
}

static int make_scratch(void **state)
{
    (void)state;
    snprintf(scratch, sizeof scratch, "/tmp/mc_cases_lua_XXXXXX");
    if (!mkdtemp(scratch))
        return -1;
    return mkdir(scratch_path("lib"), 0700);
}

static int remove_scratch(void **state)
{
    (void)state;
    for (int i = n_created - 1; i >= 0; i--)
        unlink(created[i]);
    rmdir(scratch_path("lib"));
    rmdir(scratch);
    return 0;
}

/* Loads name from the scratch folder with the fake op and a wall-clock limit of wall_s. */
static mc_status load_within(const char *name, double wall_s, mc_case_list *out, mc_err *err)
{
    char path[512];
    snprintf(path, sizeof path, "%s", scratch_path(name));
    mc_err_clear(err);
    return mc_cases_load_file_with_ops(path, NULL, find_fake, wall_s, out, err);
}

/* A wall-clock limit far past any other: the limit a test wants comes first even on a loaded
 * machine (at a load of 18 on 2 cores, 10 s came before 300 million instructions). */
#define PATIENT_S 600.0

static mc_status load(const char *name, mc_case_list *out, mc_err *err)
{
    return load_within(name, PATIENT_S, out, err);
}

static void assert_keys(const mc_case_list *l, const char *const *keys, int n)
{
    assert_int_equal(l->count, n);
    for (int i = 0; i < n; i++)
        assert_string_equal(l->items[i].key, keys[i]);
}

/* ---- expansion ---- */

static void test_cross_product_runs_in_schema_order(void **state)
{
    (void)state;
    /* the table lists n, m, dtype: the schema says dtype, m, n, so dtype turns slowest */
    write_file("order.lua", "suite \"order\" {\n"
                            "  n = 5, m = {1, 2, 3}, dtype = {\"f32\", \"f16\"}, op = \"fake\",\n"
                            "}\n");
    static const char *const keys[] = {
        "fake(m=1,n=5)", "fake(m=2,n=5)", "fake(m=3,n=5)",
        "fake(dtype=f16,m=1,n=5)", "fake(dtype=f16,m=2,n=5)", "fake(dtype=f16,m=3,n=5)",
    };
    mc_case_list l = {0};
    mc_err e;
    assert_int_equal(load("order.lua", &l, &e), MC_OK);
    assert_keys(&l, keys, 6);
    mc_case_list_free(&l);
}

static void test_counts_multiply(void **state)
{
    (void)state;
    write_file("counts.lua", "suite \"a\" { op = \"fake\", dtype = {\"f32\", \"f16\", \"bf16\"},\n"
                             "  m = {1, 7, 8, 9, 31}, n = {2, 3}, scale = {0.5, 2}, flag = {0, 1} }\n"
                             "suite(\"b\", { op = \"fake\", m = 100 })\n");
    mc_case_list l = {0};
    mc_err e;
    assert_int_equal(load("counts.lua", &l, &e), MC_OK);
    assert_int_equal(l.count, 3 * 5 * 2 * 2 * 2 + 1);
    assert_string_equal(l.items[0].key, "fake(m=1,n=2,scale=0.5)");
    assert_string_equal(l.items[1].key, "fake(m=1,n=2,scale=0.5,flag=1)");
    assert_string_equal(l.items[2].key, "fake(m=1,n=2,scale=2)");
    assert_string_equal(l.items[l.count - 1].key, "fake(m=100)");
    mc_case_list_free(&l);
}

typedef struct text_row {
    const char *lua;  /* the assignments in the suite */
    const char *key;  /* the one case they make */
} text_row;

static void test_values_become_canonical_text(void **state)
{
    (void)state;
    static const text_row rows[] = {
        {"m = 7", "fake(m=7)"},
        {"m = 1e3", "fake(m=1000)"}, /* a float that is an integer */
        {"m = 2^4", "fake(m=16)"},
        {"scale = 0.1", "fake(scale=0.1)"},
        {"scale = 2", "fake(scale=2)"},
        {"scale = 1/3", "fake(scale=0.3333333333333333)"},
        {"scale = -1e-300", "fake(scale=-1e-300)"},
        {"flag = true", "fake(flag=1)"},
        {"flag = false, scale = 3.0", "fake(scale=3)"},
        {"dtype = \"bf16\"", "fake(dtype=bf16)"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char text[256];
        snprintf(text, sizeof text, "suite \"t\" { op = \"fake\", %s }\n", rows[i].lua);
        write_file("text.lua", text);
        mc_case_list l = {0};
        mc_err e;
        assert_int_equal(load("text.lua", &l, &e), MC_OK);
        assert_int_equal(l.count, 1);
        assert_string_equal(l.items[0].key, rows[i].key);
        mc_case_list_free(&l);
    }
}

static void test_where_filters_and_sees_every_parameter(void **state)
{
    (void)state;
    write_file("where.lua", "suite \"w\" {\n"
                            "  op = \"fake\", m = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, dtype = {\"f32\", \"f16\"},\n"
                            "  where = function(c)\n"
                            "    assert(c.op == \"fake\" and c.n == 8 and c.scale == 1 and c.flag == 0)\n"
                            "    assert(math.type(c.m) == \"integer\" and math.type(c.scale) == \"float\")\n"
                            "    local n = 0\n    for k, v in pairs(c) do n = n + 1 end\n"
                            "    assert(n == 6, 'pairs sees op and the five parameters')\n"
                            "    return c.m % 3 == 0 and c.dtype == \"f16\"\n"
                            "  end,\n"
                            "}\n");
    static const char *const keys[] = {"fake(dtype=f16,m=3)", "fake(dtype=f16,m=6)", "fake(dtype=f16,m=9)"};
    mc_case_list l = {0};
    mc_err e;
    assert_int_equal(load("where.lua", &l, &e), MC_OK);
    assert_keys(&l, keys, 3);
    mc_case_list_free(&l);
}

static void test_where_filters_before_validation(void **state)
{
    (void)state;
    /* m = 0 fails validate, but where drops it first, so the suite loads */
    write_file("prefilter.lua", "suite \"p\" { op = \"fake\", m = {0, 1, 2}, where = function(c) return c.m > 0 end }\n");
    mc_case_list l = {0};
    mc_err e;
    assert_int_equal(load("prefilter.lua", &l, &e), MC_OK);
    assert_int_equal(l.count, 2);
    mc_case_list_free(&l);
}

static void test_duplicates_are_dropped(void **state)
{
    (void)state;
    write_file("dups.lua", "suite \"a\" { op = \"fake\", m = {1, 2, 3} }\n"
                           "suite \"b\" { op = \"fake\", m = {3, 4, 1} }\n"
                           "suite \"c\" { op = \"fake\", m = 8 }\n" /* all defaults: fake() */
                           "suite \"d\" { op = \"fake\" }\n");
    static const char *const keys[] = {"fake(m=1)", "fake(m=2)", "fake(m=3)", "fake(m=4)", "fake()"};
    mc_case_list l = {0};
    mc_err e;
    assert_int_equal(load("dups.lua", &l, &e), MC_OK);
    assert_keys(&l, keys, 5);
    assert_int_equal(l.duplicates, 3);
    /* loading again onto the same list adds nothing new */
    assert_int_equal(load("dups.lua", &l, &e), MC_OK);
    assert_int_equal(l.count, 5);
    assert_int_equal(l.duplicates, 3 + 8);
    mc_case_list_free(&l);
}

static void test_loading_is_deterministic(void **state)
{
    (void)state;
    /* pairs() order may differ between states; the expansion must not depend on it */
    write_file("det.lua", "local ms = {}\n"
                          "for i = 1, 40 do ms[#ms + 1] = i * 3 end\n"
                          "local t = { op = \"fake\", m = ms, n = {1, 64, 65}, dtype = {\"f32\", \"bf16\"},\n"
                          "            scale = {0.25, 4}, flag = {0, 1} }\n"
                          "suite \"d\" (t)\n"
                          "suite \"e\" { op = \"fake\", n = {9, 7, 8}, m = {5, 4} }\n");
    mc_case_list a = {0}, b = {0};
    mc_err e;
    assert_int_equal(load("det.lua", &a, &e), MC_OK);
    assert_int_equal(load("det.lua", &b, &e), MC_OK);
    assert_int_equal(a.count, 40 * 3 * 2 * 2 * 2 + 6);
    assert_int_equal(a.count, b.count);
    for (int i = 0; i < a.count; i++)
        assert_string_equal(a.items[i].key, b.items[i].key);
    mc_case_list_free(&a);
    mc_case_list_free(&b);
}

/* ---- errors ---- */

typedef struct error_row {
    const char *file;
    const char *text;
    const char *where; /* "file:line:" the message must start with */
    const char *what;  /* and a phrase it must hold */
} error_row;

static const error_row error_rows[] = {
    {"e_syntax.lua", "suite \"s\" {\n  op = \"fake\",\n  m = {1, 2\n}\n", "e_syntax.lua:5:",
     "'}' expected (to close '{' at line 1) near <eof>"},
    {"e_syntax2.lua", "local a = 1\nlocal b = = 2\n", "e_syntax2.lua:2:", "unexpected symbol near '='"},
    {"e_param.lua", "-- a comment\n\nsuite \"s\" {\n  op = \"fake\",\n  mm = 3,\n}\n", "e_param.lua:3:",
     "op 'fake' has no parameter 'mm' (it has: dtype, m, n, scale, flag"},
    {"e_param2.lua", "suite \"s\" { op = \"fake\", zz = 1, aa = 2 }\n", "e_param2.lua:1:", "no parameter 'aa'"},
    {"e_op.lua", "\nsuite \"s\" { op = \"nope\", m = 1 }\n", "e_op.lua:2:", "unknown op 'nope'"},
    {"e_noop.lua", "suite \"s\" { m = 1 }\n", "e_noop.lua:1:", "'op' must name an op"},
    {"e_type_int.lua", "suite \"s\" {\n op = \"fake\",\n m = \"seven\" }\n", "e_type_int.lua:1:",
     "parameter 'm' of op 'fake' wants an integer, got string 'seven'"},
    {"e_type_frac.lua", "suite \"s\" { op = \"fake\", m = {1, 1.5} }\n", "e_type_frac.lua:1:",
     "wants an integer, got number '1.5'"},
    {"e_type_str.lua", "suite \"s\" { op = \"fake\", dtype = 16 }\n", "e_type_str.lua:1:", "wants a word"},
    {"e_type_num.lua", "suite \"s\" { op = \"fake\", scale = \"big\" }\n", "e_type_num.lua:1:", "wants a number"},
    {"e_nested.lua", "suite \"s\" { op = \"fake\", m = {{1}} }\n", "e_nested.lua:1:", "wants an integer, got table"},
    {"e_empty.lua", "suite \"s\" { op = \"fake\", m = {} }\n", "e_empty.lua:1:", "non-empty list"},
    {"e_holes.lua", "suite \"s\" { op = \"fake\", m = {1, 2, x = 3} }\n", "e_holes.lua:1:", "non-empty list"},
    {"e_positional.lua", "suite \"s\" { \"fake\" }\n", "e_positional.lua:1:", "needs a name"},
    {"e_where_type.lua", "suite \"s\" { op = \"fake\", where = 3 }\n", "e_where_type.lua:1:", "'where' must be a function"},
    {"e_validate.lua", "\n\nsuite \"s\" { op = \"fake\", m = {2, 1, 0} }\n", "e_validate.lua:3:",
     "suite 's': m must be >= 1 (case fake(m=0))"},
    {"e_validate_str.lua", "suite \"s\" { op = \"fake\", dtype = \"f64\" }\n", "e_validate_str.lua:1:",
     "dtype must be f32, f16 or bf16, not f64"},
    {"e_where_run.lua", "suite \"s\" {\n  op = \"fake\", m = {1, 2},\n  where = function(c)\n"
                        "    return c.m * c.missing > 1\n  end,\n}\n",
     "e_where_run.lua:1:", "where() failed: " /* then the inner position */},
    {"e_runtime.lua", "local x = 1\nerror(\"boom\")\n", "e_runtime.lua:2:", "boom"},
    {"e_nil_call.lua", "\nos.execute(\"true\")\n", "e_nil_call.lua:2:", "global 'os'"},
    {"e_error_obj.lua", "\n\nerror({})\n", "e_error_obj.lua:3:", "error object is a table value"},
    {"e_too_many.lua", "local l = {}\nfor i = 1, 1000 do l[i] = i end\n"
                       "suite \"big\" { op = \"fake\", m = l, n = l }\n",
     "e_too_many.lua:3:", "more than 200000 combinations"},
    {"e_suite_arg.lua", "suite(42)\n", "e_suite_arg.lua:1:", "bad argument #1 to 'suite' (string expected"},
    {"e_suite_body.lua", "suite \"s\" (42)\n", "e_suite_body.lua:1:", "suite 's' wants a table { op = ..., ... }, got number"},
    {"e_forgot.lua", "suite \"a\" { op = \"fake\" }\n\nsuite \"b\"\nsuite \"c\"\n", "e_forgot.lua:3:",
     "suite 'b' was never given its table"},
    {"e_memory.lua", "local s = string.rep(\"x\", 600 * 1024 * 1024)\n", "", "Lua memory"},
    /* where() answers true or false and never edits its case (issue 12, item 15) */
    {"e_where_nil.lua", "suite \"s\" { op = \"fake\", m = {1, 2},\n"
                        "  where = function(c) if c.m > 5 then return true end end }\n",
     "e_where_nil.lua:1:", "where() must return true or false, got nil (its function starts at "},
    {"e_where_number.lua", "\nsuite \"s\" { op = \"fake\", m = {1, 2}, where = function(c) return c.m end }\n",
     "e_where_number.lua:2:", "where() must return true or false, got number"},
    {"e_where_sets.lua", "suite \"s\" {\n  op = \"fake\", m = {1, 2},\n  where = function(c)\n    c.m = 3\n"
                         "    return true\n  end,\n}\n",
     "e_where_sets.lua:1:", "e_where_sets.lua:4: where() must not change its case (it set 'm')"},
    {"e_where_adds.lua", "suite \"s\" { op = \"fake\", where = function(c)\n  c.extra = 1\n  return true\nend }\n",
     "e_where_adds.lua:1:", "e_where_adds.lua:2: where() must not change its case (it set 'extra')"},
};

static void test_errors_name_file_line_and_what(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof error_rows / sizeof error_rows[0]; i++) {
        const error_row *r = &error_rows[i];
        write_file(r->file, r->text);
        mc_case_list l = {0};
        mc_err e;
        mc_status st = load(r->file, &l, &e);
        if (st != MC_ERR_LUA || !strstr(e.msg, r->what) || !strstr(e.msg, r->where))
            print_error("row %zu (%s): status %d, message: %s\n", i, r->file, (int)st, e.msg);
        assert_int_equal(st, MC_ERR_LUA);
        assert_int_equal(l.count, 0); /* a failed load adds nothing */
        /* the position is the file's path as given, then the line */
        char want[600];
        snprintf(want, sizeof want, "%s/%s", scratch, r->where);
        if (r->where[0])
            assert_memory_equal(e.msg, want, strlen(want));
        assert_non_null(strstr(e.msg, r->what));
        mc_case_list_free(&l);
    }
}

static void test_where_error_names_both_lines(void **state)
{
    (void)state;
    write_file("where_run.lua", "suite \"s\" {\n  op = \"fake\", m = {1, 2},\n  where = function(c)\n"
                                "    return c.m * c.missing > 1\n  end,\n}\n");
    mc_case_list l = {0};
    mc_err e;
    assert_int_equal(load("where_run.lua", &l, &e), MC_ERR_LUA);
    assert_non_null(strstr(e.msg, "where_run.lua:1: suite 's': where() failed: "));
    assert_non_null(strstr(e.msg, "where_run.lua:4: attempt to perform arithmetic on a nil value (field 'missing')"));
}

static void test_failed_load_keeps_the_list(void **state)
{
    (void)state;
    write_file("half.lua", "suite \"ok\" { op = \"fake\", m = {1, 2} }\nsuite \"bad\" { op = \"fake\", m = 0 }\n");
    write_file("one.lua", "suite \"one\" { op = \"fake\", m = 77 }\n");
    mc_case_list l = {0};
    mc_err e;
    assert_int_equal(load("one.lua", &l, &e), MC_OK);
    assert_int_equal(load("half.lua", &l, &e), MC_ERR_LUA);
    assert_int_equal(l.count, 1);
    assert_string_equal(l.items[0].key, "fake(m=77)");
    mc_case_list_free(&l);
}

static void test_missing_file_is_io(void **state)
{
    (void)state;
    mc_case_list l = {0};
    mc_err e;
    assert_int_equal(load("no_such_file.lua", &l, &e), MC_ERR_IO);
    assert_non_null(strstr(e.msg, "no_such_file.lua"));
}

/* ---- the sandbox ---- */

static void test_sandbox_has_only_safe_functions(void **state)
{
    (void)state;
    write_file("sandbox.lua",
               "for _, name in ipairs({'os', 'io', 'load', 'loadfile', 'dofile', 'loadstring', 'debug',\n"
               "    'package', 'collectgarbage', 'setmetatable', 'getmetatable', 'rawset', 'rawget',\n"
               "    'print', 'coroutine', '_G'}) do\n"
               "  assert(_ENV[name] == nil, name .. ' should be absent')\n"
               "end\n"
               "assert(string.dump == nil and (\"\").dump == nil, 'string.dump')\n"
               "assert(math.random == nil and math.randomseed == nil, 'math.random')\n"
               "assert(type(string.format) == 'function' and type(table.concat) == 'function')\n"
               "assert(type(utf8.char) == 'function' and type(math.floor) == 'function')\n"
               "assert(type(pcall) == 'function' and type(tostring) == 'function')\n"
               "string.format = nil -- a file's own copy: the next file still has it\n"
               "suite \"s\" { op = \"fake\" }\n");
    write_file("sandbox2.lua", "assert(type(string.format) == 'function')\nsuite \"s\" { op = \"fake\", m = 2 }\n");
    mc_case_list l = {0};
    mc_err e;
    assert_int_equal(load("sandbox.lua", &l, &e), MC_OK);
    assert_int_equal(load("sandbox2.lua", &l, &e), MC_OK);
    assert_int_equal(l.count, 2);
    mc_case_list_free(&l);
}

static int dump_writer(lua_State *L, const void *p, size_t sz, void *ud)
{
    (void)L;
    return fwrite(p, 1, sz, ud) == sz ? 0 : 1;
}

/* Writes real Lua bytecode of text to name. */
static void write_bytecode(const char *name, const char *text)
{
    write_file(name, ""); /* registers it for removal */
    FILE *f = fopen(scratch_path(name), "wb");
    assert_non_null(f);
    lua_State *L = luaL_newstate();
    assert_non_null(L);
    int load_rc = luaL_loadstring(L, text);
    int dump_rc = load_rc == LUA_OK ? lua_dump(L, dump_writer, f, 0) : -1;
    lua_close(L);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(load_rc, LUA_OK);
    assert_int_equal(dump_rc, 0);
}

static void test_bytecode_is_rejected(void **state)
{
    (void)state;
    write_bytecode("binary.lua", "suite \"s\" { op = \"fake\" }");
    write_bytecode("lib/binlib.lua", "return {1}");
    write_file("uses_binlib.lua", "local x = require \"binlib\"\nsuite \"s\" { op = \"fake\" }\n");
    mc_case_list l = {0};
    mc_err e;
    assert_int_equal(load("binary.lua", &l, &e), MC_ERR_LUA);
    assert_non_null(strstr(e.msg, "binary chunk"));
    assert_int_equal(load("uses_binlib.lua", &l, &e), MC_ERR_LUA);
    assert_non_null(strstr(e.msg, "binary chunk"));
    assert_int_equal(l.count, 0);
}

static void test_endless_loop_is_stopped(void **state)
{
    (void)state;
    write_file("loop.lua", "local i = 0\nwhile true do i = i + 1 end\n");
    mc_case_list l = {0};
    mc_err e;
    assert_int_equal(load("loop.lua", &l, &e), MC_ERR_LUA);
    assert_non_null(strstr(e.msg, "million Lua instructions"));
    assert_non_null(strstr(e.msg, "loop.lua:2:"));
}

/* ---- limits no case file can dodge (issue 13, item 3) ---- */

typedef struct limit_row {
    const char *file;
    const char *text;
    const char *what; /* a phrase the message must hold */
} limit_row;

/* Each of these ran forever (or held the memory) before: pcall swallowed the limit error, or the
 * work ran inside one C call that the instruction hook never sees. */
static const limit_row limit_rows[] = {
    {"l_pcall_loop.lua", "while true do pcall(function() while true do end end) end\n", "million Lua instructions"},
    {"l_pcall_nested.lua",
     "local function spin() while true do end end\n"
     "while true do pcall(pcall, pcall, spin) end\n",
     "million Lua instructions"},
    {"l_pcall_where.lua",
     "suite \"s\" { op = \"fake\", m = {1, 2},\n"
     "  where = function(c) while true do pcall(function() while true do end end) end end }\n",
     "million Lua instructions"},
    {"l_pcall_memory.lua",
     "local t, kb = {}, string.rep('x', 1024)\n" /* 15 MiB a string: quick even under ASan */
     "local ok = pcall(function() for i = 1, 1e9 do t[i] = kb:rep(15 * 1024) .. i end end)\n"
     "t = nil\nsuite \"s\" { op = \"fake\" }\n",
     "more than 512 MiB of Lua memory"},
    {"l_pcall_block.lua", "local ok = pcall(string.rep, 'x', 600 * 1024 * 1024)\nsuite \"s\" { op = \"fake\" }\n",
     "at most 16 MiB"},
    {"l_pcall_memory_loop.lua",
     "while true do pcall(function() local t = {} for i = 1, 1e9 do t[i] = i end end) end\n", "Lua memory"},
    {"l_pattern_find.lua", "string.find(string.rep('a', 40), string.rep('a?', 40) .. string.rep('a', 40))\n",
     "patterns are not available"},
    {"l_pattern_method.lua", "local s = ('a'):rep(40)\nreturn s:match(('a?'):rep(40) .. s)\n",
     "patterns are not available"},
    {"l_pattern_gsub.lua", "local s = ('a'):rep(40)\nreturn s:gsub(('a?'):rep(40) .. s, '')\n",
     "patterns are not available"},
    {"l_pattern_gmatch.lua", "for w in string.gmatch('a b', '%a+') do end\n", "patterns are not available"},
    {"l_pattern_pcall.lua",
     "local ok = pcall(string.find, ('a'):rep(40), ('a?'):rep(40) .. ('a'):rep(40))\n"
     "suite \"s\" { op = \"fake\" }\n",
     "" /* a plain error, which pcall may catch: the file then loads */},
    {"l_move.lua", "table.move({}, 1, 1 << 50, 2)\n", "table.move"},
};

static void test_limits_cannot_be_caught(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof limit_rows / sizeof limit_rows[0]; i++) {
        const limit_row *r = &limit_rows[i];
        write_file(r->file, r->text);
        mc_case_list l = {0};
        mc_err e;
        mc_status st = load(r->file, &l, &e);
        if (!r->what[0]) {
            assert_int_equal(st, MC_OK);
            mc_case_list_free(&l);
            continue;
        }
        if (st != MC_ERR_LUA || !strstr(e.msg, r->what))
            print_error("row %zu (%s): status %d, message: %s\n", i, r->file, (int)st, e.msg);
        assert_int_equal(st, MC_ERR_LUA);
        assert_non_null(strstr(e.msg, r->what));
        assert_non_null(strstr(e.msg, r->file));
        assert_int_equal(l.count, 0);
    }
}

static void test_bounded_library_still_works(void **state)
{
    (void)state;
    write_file("lib_ok.lua", "assert(string.find('gemm_f32', '_', 1, true) == 5)\n"
                             "assert(('gemm_f32'):find('f32') == 6)\n"
                             "assert(select(2, string.find('abc', 'bc')) == 3)\n"
                             "assert(string.find('abc', 'x', 1, true) == nil)\n"
                             "assert(string.find('abc', '', 2) == 2 and string.find('abc', 'c', -1) == 3)\n"
                             "assert(string.find('abc', 'a', 5) == nil)\n"
                             "assert(string.find('abc', 'a', math.mininteger) == 1)\n"
                             "assert(string.find('a.b', '.', 1, true) == 2)\n"
                             "assert(string.rep('ab', 3, ',') == 'ab,ab,ab')\n"
                             "assert(string.rep('', 1 << 62) == '' and string.rep('', 1 << 62, '') == '')\n"
                             "local t = {5, 3, 9, 1}\ntable.sort(t)\nassert(table.concat(t, ' ') == '1 3 5 9')\n"
                             "table.sort(t, function(a, b) return a > b end)\nassert(t[1] == 9 and t[4] == 1)\n"
                             "local w = {'b', 'a'}\ntable.sort(w)\nassert(w[1] == 'a')\n"
                             "assert(table.move({1, 2, 3}, 1, 3, 2)[4] == 3)\n"
                             "assert(not pcall(error, 'x'))\n"
                             "local ok, a, b = pcall(function() return 1, 2 end)\nassert(ok and a == 1 and b == 2)\n"
                             "assert(select('#', pcall(function() end)) == 1)\n"
                             "suite \"s\" { op = \"fake\", m = t }\n");
    mc_case_list l = {0};
    mc_err e;
    mc_status st = load("lib_ok.lua", &l, &e);
    if (st)
        print_error("%s\n", e.msg);
    assert_int_equal(st, MC_OK);
    assert_int_equal(l.count, 4);
    mc_case_list_free(&l);
}

/* Sorting copies of one 8 MiB string does ~10^6 comparisons of 8 MiB each inside one C call that
 * no instruction hook sees (hours before): the wall-clock deadline ends it, here set to 1 s, and
 * the real 10 s one ends the same file in tests/cli_cases.sh. */
static void test_deadline_stops_work_inside_library_calls(void **state)
{
    (void)state;
    write_file("l_sort.lua", "local s = string.rep('x', 1 << 23)\nlocal t = {}\n"
                             "for i = 1, 1 << 16 do t[i] = s end\n"
                             "pcall(table.sort, t)\n"
                             "suite \"s\" { op = \"fake\" }\n");
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    mc_case_list l = {0};
    mc_err e;
    mc_status st = load_within("l_sort.lua", 1.0, &l, &e);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    print_message("sort of 65536 x 8 MiB strings, 1 s limit: stopped after %.1f s: %s\n", s, e.msg);
    assert_int_equal(st, MC_ERR_LUA);
    assert_non_null(strstr(e.msg, "its 1 s wall-clock limit"));
    assert_non_null(strstr(e.msg, "l_sort.lua:"));
    assert_true(s < 1.0 + 5);
}

/* The case cap counts the whole list, is checked while a suite expands (so a runaway file stops
 * before its cases fill memory) and cannot be caught (issue 13, item 4). */
static void test_case_cap_stops_a_load(void **state)
{
    (void)state;
    write_file("cap.lua", "suite \"a\" { op = \"fake\", m = {1, 2, 3, 4, 5, 6} }\n"
                          "local ok = pcall(suite, \"b\", { op = \"fake\", m = {7, 8, 9, 10, 11, 12} })\n"
                          "suite \"c\" { op = \"fake\", n = 3 }\n");
    mc_case_list l = {.max_count = 10};
    mc_err e;
    assert_int_equal(load("cap.lua", &l, &e), MC_ERR_CONFIG);
    assert_non_null(strstr(e.msg, "cap.lua:2: suite 'b': more than 10 cases in one load, the cap (--max-cases"));
    assert_int_equal(l.count, 0);

    write_file("six.lua", "suite \"a\" { op = \"fake\", m = {1, 2, 3, 4, 5, 6} }\n");
    write_file("five.lua", "suite \"a\" { op = \"fake\", n = {1, 2, 3, 4, 5} }\n");
    assert_int_equal(load("six.lua", &l, &e), MC_OK);
    assert_int_equal(load("six.lua", &l, &e), MC_OK); /* duplicates take no room */
    assert_int_equal(l.count, 6);
    assert_int_equal(load("five.lua", &l, &e), MC_ERR_CONFIG);
    assert_non_null(strstr(e.msg, "five.lua: more than 10 cases in one load"));
    assert_int_equal(l.count, 6);
    mc_case_list_free(&l);
    assert_int_equal(mc_case_list_max(&l), MC_CASE_LIST_DEFAULT_MAX);
}

/* ---- require and include ---- */

static void test_require_loads_lib_once(void **state)
{
    (void)state;
    write_file("lib/sizes_t.lua", "local M = {}\nM.edge = {1, 7, 8}\nM.loads = (M.loads or 0) + 1\nreturn M\n");
    write_file("lib/noresult.lua", "local x = 1\n");
    write_file("req.lua", "local s = require \"sizes_t\"\n"
                          "assert(require \"sizes_t\" == s and import \"sizes_t\" == s, 'one value per module')\n"
                          "assert(require \"noresult\" == true)\n"
                          "suite \"r\" { op = \"fake\", m = s.edge }\n");
    static const char *const keys[] = {"fake(m=1)", "fake(m=7)", "fake()"};
    mc_case_list l = {0};
    mc_err e;
    assert_int_equal(load("req.lua", &l, &e), MC_OK);
    assert_keys(&l, keys, 3);
    mc_case_list_free(&l);
}

static void test_require_cannot_leave_lib(void **state)
{
    (void)state;
    static const error_row rows[] = {
        {"req_up.lua", "\nlocal x = require \"../escape\"\n", "req_up.lua:2:", "a name may hold only"},
        {"req_abs.lua", "require \"/etc/passwd\"\n", "req_abs.lua:1:", "a name may hold only"},
        {"req_sub.lua", "require \"lib/sizes_t\"\n", "req_sub.lua:1:", "a name may hold only"},
        {"req_dot.lua", "require \"sizes_t.lua\"\n", "req_dot.lua:1:", "a name may hold only"},
        {"req_missing.lua", "require \"escape\"\n", "req_missing.lua:1:", "no readable library module"},
        {"req_cycle.lua", "require \"cyc_a\"\n", "cyc_b.lua:1:", "require cycle"},
        {"req_syntax.lua", "require \"broken\"\n", "lib/broken.lua:2:", "near"},
        {"inc_up.lua", "include \"../x\"\n", "inc_up.lua:1:", "a name may hold only"},
    };
    write_file("escape.lua", "return {}\n"); /* beside the tiers, outside lib/ */
    write_file("lib/cyc_a.lua", "return require \"cyc_b\"\n");
    write_file("lib/cyc_b.lua", "return require \"cyc_a\"\n");
    write_file("lib/broken.lua", "local x = {\nlocal y\n");
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        write_file(rows[i].file, rows[i].text);
        mc_case_list l = {0};
        mc_err e;
        mc_status st = load(rows[i].file, &l, &e);
        if (st != MC_ERR_LUA || !strstr(e.msg, rows[i].what) || !strstr(e.msg, rows[i].where))
            print_error("row %zu (%s): status %d, message: %s\n", i, rows[i].file, (int)st, e.msg);
        assert_int_equal(st, MC_ERR_LUA);
        assert_non_null(strstr(e.msg, rows[i].where));
        assert_non_null(strstr(e.msg, rows[i].what));
    }
}

static void test_include_adds_a_tier_in_place(void **state)
{
    (void)state;
    write_file("tier_a.lua", "suite \"a\" { op = \"fake\", m = {1, 2} }\n");
    write_file("tier_b.lua", "suite \"b0\" { op = \"fake\", m = 50 }\ninclude \"tier_a\"\n"
                             "suite \"b\" { op = \"fake\", m = {2, 3} }\n");
    static const char *const keys[] = {"fake(m=50)", "fake(m=1)", "fake(m=2)", "fake(m=3)"};
    mc_case_list l = {0};
    mc_err e;
    assert_int_equal(load("tier_b.lua", &l, &e), MC_OK);
    assert_keys(&l, keys, 4);
    assert_int_equal(l.duplicates, 1);
    mc_case_list_free(&l);

    write_file("cyc1.lua", "include \"cyc2\"\n");
    write_file("cyc2.lua", "\ninclude \"cyc1\"\n");
    assert_int_equal(load("cyc1.lua", &l, &e), MC_ERR_LUA);
    assert_non_null(strstr(e.msg, "cyc2.lua:2:"));
    assert_non_null(strstr(e.msg, "include cycle"));
    assert_int_equal(load("inc_missing.lua", &l, &e), MC_ERR_IO);
    write_file("inc_missing.lua", "include \"nothere\"\n");
    assert_int_equal(load("inc_missing.lua", &l, &e), MC_ERR_LUA);
    assert_non_null(strstr(e.msg, "no readable case file"));
}

/* ---- folders and tiers ---- */

static void test_unknown_tier_is_usage(void **state)
{
    (void)state;
    mc_case_list l = {0};
    mc_err e = {0};
    assert_int_equal(mc_cases_load_tier("quik", scratch, &l, &e), MC_ERR_USAGE);
    assert_non_null(strstr(e.msg, "quik"));
    assert_int_equal(mc_cases_load_tier("../quick", scratch, &l, &e), MC_ERR_USAGE);
    assert_int_equal(mc_cases_load_tier(NULL, scratch, &l, &e), MC_ERR_USAGE);
}

static void test_cases_dir_search(void **state)
{
    (void)state;
    char dir[4096], want[4096];
    mc_err e = {0};
    assert_non_null(realpath(scratch, want));
    assert_int_equal(mc_cases_dir(scratch, dir, sizeof dir, &e), MC_OK);
    assert_string_equal(dir, want);
    assert_int_equal(mc_cases_dir("/nonexistent/cases", dir, sizeof dir, &e), MC_ERR_CONFIG);

    assert_int_equal(setenv("MC_CASES_DIR", scratch, 1), 0);
    assert_int_equal(mc_cases_dir(NULL, dir, sizeof dir, &e), MC_OK);
    assert_string_equal(dir, want);
    assert_int_equal(setenv("MC_CASES_DIR", "/nonexistent/cases", 1), 0);
    assert_int_equal(mc_cases_dir(NULL, dir, sizeof dir, &e), MC_ERR_CONFIG);
    assert_non_null(strstr(e.msg, "MC_CASES_DIR"));
    assert_int_equal(unsetenv("MC_CASES_DIR"), 0);

    /* the test binary sits in <build>/tests: neither ../cases nor ./cases exists there, so the
     * source tree's folder is found */
    assert_non_null(realpath(MC_SOURCE_DIR "/cases", want));
    assert_int_equal(mc_cases_dir(NULL, dir, sizeof dir, &e), MC_OK);
    assert_string_equal(dir, want);
    assert_int_equal(mc_cases_dir(NULL, dir, 8, &e), MC_ERR_CONFIG); /* too small for the path */
}


/* ---- the real tiers ---- */

static int param_of(const mc_case *c, const char *name)
{
    int idx = mc_case_param_index(c->op, name);
    assert_true(idx >= 0);
    return idx;
}

/* True when some case of op has parameter `name` written as `value` (the text a case file gives,
 * kept in mc_value.s for every parameter type). */
static bool tier_has(const mc_case_list *l, const char *op, const char *name, const char *value)
{
    for (int i = 0; i < l->count; i++) {
        const mc_case *c = &l->items[i];
        if (strcmp(c->op->name, op) == 0 && strcmp(mc_case_str(c, param_of(c, name)), value) == 0)
            return true;
    }
    return false;
}

typedef struct coverage_row {
    const char *op, *param;
    const char *values[13]; /* each must appear in some case of op; NULL-terminated */
} coverage_row;

#define EDGE_SIZES "1", "7", "8", "9", "31", "32", "33", "63", "64", "65", "127", "129"

/* What quick.lua promises (cases/quick.lua's header and the design's coverage matrix). */
static const coverage_row quick_coverage[] = {
    {"gemm", "dtype", {"f32", "f16", "bf16"}},
    {"gemm", "layout_a", {"contiguous", "transposed", "padded", "stride2", "broadcast", "sliced"}},
    {"gemm", "layout_b", {"contiguous", "transposed", "padded", "stride2", "broadcast", "sliced"}},
    {"gemm", "layout_c", {"contiguous", "transposed", "padded", "stride2", "sliced"}},
    {"gemm", "align", {"0", "2", "4", "16"}},
    {"gemm", "m", {EDGE_SIZES}},
    {"gemm", "n", {EDGE_SIZES}},
    {"gemm", "k", {EDGE_SIZES}},
    {"gemm", "bias", {"0", "1"}},
    {"gemm", "alpha", {"1", "0.5", "-2"}},
    {"gemm", "beta", {"0", "1", "-0.75"}},
    {"gemm", "batch", {"1", "2", "3", "5"}},
    {"gemv", "dtype", {"f32", "f16", "bf16"}},
    {"gemv", "layout_a", {"contiguous", "transposed", "padded", "stride2", "sliced"}},
    {"gemv", "layout_x", {"contiguous", "stride2"}},
    {"gemv", "align", {"0", "2", "4", "16"}},
    {"gemv", "m", {EDGE_SIZES}},
    {"gemv", "k", {EDGE_SIZES}},
    {"gemv", "wtype", {"same", "q8_0", "q4_0"}},
    {"softmax", "dtype", {"f32", "f16", "bf16"}},
    {"softmax", "layout", {"contiguous", "transposed", "padded", "stride2", "sliced"}},
    {"softmax", "align", {"0", "2", "4", "16"}},
    {"softmax", "cols", {EDGE_SIZES}},
    {"softmax", "causal", {"0", "1"}},
    {"softmax", "mag", {"1", "30", "100"}},
    {"sdpa", "dtype", {"f32", "f16"}},
    {"sdpa", "layout", {"contiguous", "permuted", "padded"}},
    {"sdpa", "align", {"0", "2", "4", "16"}},
    {"sdpa", "head_dim", {"64", "128"}},
    {"sdpa", "causal", {"0", "1"}},
    {"sdpa", "n_q", {"1", "17"}},
    {"sdpa", "n_kv", {"1", "8", "9", "17", "31", "33", "64", "65", "129"}},
};

/* One case that must be in the tier, written as parameter values. */
typedef struct shape_row {
    const char *op;
    const char *pairs[8][2]; /* {name, value}, up to a NULL name */
} shape_row;

static const shape_row quick_shapes[] = {
    /* Qwen2.5-0.5B: prefill (m = 17) and decode (m = 1) of every weight matrix */
    {"gemm", {{"m", "17"}, {"n", "1152"}, {"k", "896"}}},
    {"gemm", {{"m", "17"}, {"n", "896"}, {"k", "896"}}},
    {"gemm", {{"m", "17"}, {"n", "4864"}, {"k", "896"}}},
    {"gemm", {{"m", "17"}, {"n", "896"}, {"k", "4864"}}},
    {"gemm", {{"m", "1"}, {"n", "4864"}, {"k", "896"}}},
    /* Qwen2.5-3B: decode of every weight matrix and one prefill */
    {"gemm", {{"m", "1"}, {"n", "2560"}, {"k", "2048"}}},
    {"gemm", {{"m", "1"}, {"n", "11008"}, {"k", "2048"}}},
    {"gemm", {{"m", "1"}, {"n", "2048"}, {"k", "11008"}}},
    {"gemm", {{"m", "17"}, {"n", "2048"}, {"k", "2048"}}},
    {"gemv", {{"m", "1152"}, {"k", "896"}}},
    {"gemv", {{"m", "896"}, {"k", "4864"}}},
    {"gemv", {{"m", "11008"}, {"k", "2048"}}},
    {"gemv", {{"m", "2048"}, {"k", "11008"}}},
    /* attention of both models, decode and prefill, causal at the cache offset */
    {"sdpa", {{"heads", "14"}, {"kv_heads", "2"}, {"head_dim", "64"}, {"n_q", "1"}, {"n_kv", "64"}, {"causal", "1"}, {"q_offset", "63"}}},
    {"sdpa", {{"heads", "14"}, {"kv_heads", "2"}, {"head_dim", "64"}, {"n_q", "17"}, {"n_kv", "17"}, {"causal", "1"}}},
    {"sdpa", {{"heads", "16"}, {"kv_heads", "2"}, {"head_dim", "128"}, {"n_q", "17"}, {"n_kv", "64"}, {"causal", "1"}, {"q_offset", "47"}}},
    {"sdpa", {{"heads", "16"}, {"kv_heads", "2"}, {"head_dim", "128"}, {"n_q", "1"}, {"n_kv", "33"}}},
    {"softmax", {{"batch", "14"}, {"rows", "17"}, {"cols", "4096"}, {"causal", "1"}, {"q_offset", "4079"}}},
    /* the gemm epilogue all at once, and a broadcast batch */
    {"gemm", {{"alpha", "-2"}, {"beta", "-0.75"}, {"bias", "1"}, {"dtype", "bf16"}}},
    {"gemm", {{"batch", "3"}, {"layout_a", "broadcast"}, {"layout_b", "broadcast"}}},
    /* softmax: causal with an offset, -inf entries, large logits */
    {"softmax", {{"causal", "1"}, {"q_offset", "7"}, {"dtype", "f16"}}},
    {"softmax", {{"neg_inf", "0.95"}, {"causal", "1"}, {"dtype", "bf16"}}},
    {"softmax", {{"mag", "100"}, {"scale", "2"}, {"cols", "1024"}}},
    /* sdpa: grouped-query heads */
    {"sdpa", {{"heads", "8"}, {"kv_heads", "2"}}},
    {"sdpa", {{"heads", "16"}, {"kv_heads", "1"}}},
};

static bool case_matches(const mc_case *c, const shape_row *r)
{
    if (strcmp(c->op->name, r->op) != 0)
        return false;
    for (int j = 0; j < 8 && r->pairs[j][0]; j++)
        if (strcmp(mc_case_str(c, param_of(c, r->pairs[j][0])), r->pairs[j][1]) != 0)
            return false;
    return true;
}

/* Multiply-adds (exp-adds for softmax) of one case: what a scalar kernel and the reference pay. */
static double case_macs(const mc_case *c)
{
    const char *op = c->op->name;
#define P(name) ((double)mc_case_int(c, param_of(c, name)))
    if (strcmp(op, "gemm") == 0)
        return P("m") * P("n") * P("k") * P("batch");
    if (strcmp(op, "gemv") == 0)
        return P("m") * P("k");
    if (strcmp(op, "softmax") == 0)
        return P("rows") * P("cols") * P("batch");
    return 2 * P("n_q") * P("n_kv") * P("head_dim") * P("heads"); /* Q K^T, then P V */
#undef P
}

static void test_quick_tier_covers_every_op_layout_alignment_and_dtype(void **state)
{
    (void)state;
    mc_case_list l = {0};
    mc_err e = {0};
    mc_status st = mc_cases_load_tier("quick", NULL, &l, &e);
    if (st)
        print_error("quick: %s\n", e.msg);
    assert_int_equal(st, MC_OK);
    assert_true(l.count >= 3200);
    static const char *const ops[] = {"gemm", "gemv", "softmax", "sdpa"};
    for (size_t i = 0; i < 4; i++) {
        int n = 0;
        for (int j = 0; j < l.count; j++)
            n += strcmp(l.items[j].op->name, ops[i]) == 0;
        if (n < 400)
            print_error("quick: only %d %s cases\n", n, ops[i]);
        assert_true(n >= 400);
    }
    for (size_t i = 0; i < sizeof quick_coverage / sizeof quick_coverage[0]; i++) {
        const coverage_row *r = &quick_coverage[i];
        for (int j = 0; r->values[j]; j++) {
            if (!tier_has(&l, r->op, r->param, r->values[j]))
                print_error("quick: no %s case with %s=%s\n", r->op, r->param, r->values[j]);
            assert_true(tier_has(&l, r->op, r->param, r->values[j]));
        }
    }
    for (size_t i = 0; i < sizeof quick_shapes / sizeof quick_shapes[0]; i++) {
        bool found = false;
        for (int j = 0; j < l.count && !found; j++)
            found = case_matches(&l.items[j], &quick_shapes[i]);
        if (!found)
            print_error("quick: shape row %zu (%s) missing\n", i, quick_shapes[i].op);
        assert_true(found);
    }
    /* the time budget: about 1e9 multiply-adds for a fp64 reference plus a scalar kernel */
    double macs = 0;
    for (int j = 0; j < l.count; j++)
        macs += case_macs(&l.items[j]);
    print_message("quick: %d cases, %.3g multiply-adds\n", l.count, macs);
    assert_true(macs <= 1e9);
    mc_case_list_free(&l);
}

/* Would cuda's tensor-core GEMMs (gemm_mma_supports) take this quick case? f16 or bf16, k and n
 * multiples of 8, A and B packed along k and n (contiguous, or broadcast over the batch), every base
 * 16-byte aligned (the padded and sliced views' strides and offsets never are). */
static bool tensor_core_case(const mc_case *c)
{
    if (strcmp(c->op->name, "gemm") != 0)
        return false;
    const char *dt = mc_case_str(c, param_of(c, "dtype")), *la = mc_case_str(c, param_of(c, "layout_a")),
               *lb = mc_case_str(c, param_of(c, "layout_b")), *align = mc_case_str(c, param_of(c, "align"));
    return (strcmp(dt, "f16") == 0 || strcmp(dt, "bf16") == 0) &&
           mc_case_int(c, param_of(c, "n")) % 8 == 0 && mc_case_int(c, param_of(c, "k")) % 8 == 0 &&
           (strcmp(la, "contiguous") == 0 || strcmp(la, "broadcast") == 0) &&
           (strcmp(lb, "contiguous") == 0 || strcmp(lb, "broadcast") == 0) &&
           (strcmp(align, "0") == 0 || strcmp(align, "16") == 0);
}

/* The quick tier is all that runs on the GPU machine, and the tensor-core GEMMs decline most of its
 * GEMM cases: among those they take there must be each epilogue term, a batch with A and one with B
 * broadcast, every view of C, bf16, and k, m and n past their first slab or block with a partial
 * last one (k > 64, m > 128, n > 256, none a multiple). Failed before gemm.tensor_core: the
 * tensor-core kernels had met only alpha = 1, beta = 0, no bias, one batch and a contiguous C. */
static void test_quick_tier_reaches_the_tensor_core_gemms(void **state)
{
    (void)state;
    mc_case_list l = {0};
    mc_err e = {0};
    assert_int_equal(mc_cases_load_tier("quick", NULL, &l, &e), MC_OK);
    enum { ALPHA, BETA, BIAS, BCAST_A, BCAST_B, BF16, K_TAIL, M_TAIL, N_TAIL, C_VIEWS, NEEDS = C_VIEWS + 4 };
    static const char *const what[NEEDS] = {"alpha != 1", "beta != 0", "a bias", "A broadcast over batches",
                                            "B broadcast over batches", "bf16", "k > 64, not a multiple of 64",
                                            "m > 128, not a multiple of 128", "n > 256, not a multiple of 256",
                                            "layout_c=transposed", "layout_c=padded", "layout_c=stride2",
                                            "layout_c=sliced"};
    bool seen[NEEDS] = {false};
    for (int j = 0; j < l.count; j++) {
        const mc_case *c = &l.items[j];
        if (!tensor_core_case(c))
            continue;
        const int64_t m = mc_case_int(c, param_of(c, "m")), n = mc_case_int(c, param_of(c, "n")),
                      k = mc_case_int(c, param_of(c, "k")), batch = mc_case_int(c, param_of(c, "batch"));
        seen[ALPHA] |= strcmp(mc_case_str(c, param_of(c, "alpha")), "1") != 0;
        seen[BETA] |= strcmp(mc_case_str(c, param_of(c, "beta")), "0") != 0;
        seen[BIAS] |= mc_case_int(c, param_of(c, "bias")) != 0;
        seen[BCAST_A] |= batch > 1 && strcmp(mc_case_str(c, param_of(c, "layout_a")), "broadcast") == 0;
        seen[BCAST_B] |= batch > 1 && strcmp(mc_case_str(c, param_of(c, "layout_b")), "broadcast") == 0;
        seen[BF16] |= strcmp(mc_case_str(c, param_of(c, "dtype")), "bf16") == 0;
        seen[K_TAIL] |= k > 64 && k % 64 != 0;
        seen[M_TAIL] |= m > 128 && m % 128 != 0;
        seen[N_TAIL] |= n > 256 && n % 256 != 0;
        for (int v = 0; v < 4; v++)
            seen[C_VIEWS + v] |= strcmp(mc_case_str(c, param_of(c, "layout_c")), what[C_VIEWS + v] + 9) == 0;
    }
    for (int i = 0; i < NEEDS; i++) {
        if (!seen[i])
            print_error("quick: no case the tensor-core GEMMs take has %s\n", what[i]);
        assert_true(seen[i]);
    }
    mc_case_list_free(&l);
}

static void test_every_tier_loads_and_precommit_holds_quick(void **state)
{
    (void)state;
    static const char *const tiers[] = {"quick", "precommit", "nightly", "perf"};
    mc_case_list lists[4] = {{0}};
    for (int t = 0; t < 4; t++) {
        mc_err e = {0};
        mc_status st = mc_cases_load_tier(tiers[t], NULL, &lists[t], &e);
        if (st)
            print_error("%s: %s\n", tiers[t], e.msg);
        assert_int_equal(st, MC_OK);
        assert_true(lists[t].count > 0);
    }
    /* precommit and nightly start with quick, in quick's order */
    for (int t = 1; t < 3; t++) {
        assert_true(lists[t].count > lists[0].count);
        for (int j = 0; j < lists[0].count; j++)
            assert_string_equal(lists[t].items[j].key, lists[0].items[j].key);
    }
    /* the perf tier times packed, aligned tensors only */
    for (int j = 0; j < lists[3].count; j++) {
        const mc_case *c = &lists[3].items[j];
        assert_string_equal(mc_case_str(c, param_of(c, "align")), "0");
    }
    for (int t = 0; t < 4; t++)
        mc_case_list_free(&lists[t]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cross_product_runs_in_schema_order),
        cmocka_unit_test(test_counts_multiply),
        cmocka_unit_test(test_values_become_canonical_text),
        cmocka_unit_test(test_where_filters_and_sees_every_parameter),
        cmocka_unit_test(test_where_filters_before_validation),
        cmocka_unit_test(test_duplicates_are_dropped),
        cmocka_unit_test(test_loading_is_deterministic),
        cmocka_unit_test(test_errors_name_file_line_and_what),
        cmocka_unit_test(test_where_error_names_both_lines),
        cmocka_unit_test(test_failed_load_keeps_the_list),
        cmocka_unit_test(test_missing_file_is_io),
        cmocka_unit_test(test_sandbox_has_only_safe_functions),
        cmocka_unit_test(test_bytecode_is_rejected),
        cmocka_unit_test(test_endless_loop_is_stopped),
        cmocka_unit_test(test_limits_cannot_be_caught),
        cmocka_unit_test(test_bounded_library_still_works),
        cmocka_unit_test(test_deadline_stops_work_inside_library_calls),
        cmocka_unit_test(test_case_cap_stops_a_load),
        cmocka_unit_test(test_require_loads_lib_once),
        cmocka_unit_test(test_require_cannot_leave_lib),
        cmocka_unit_test(test_include_adds_a_tier_in_place),
        cmocka_unit_test(test_unknown_tier_is_usage),
        cmocka_unit_test(test_cases_dir_search),
        cmocka_unit_test(test_quick_tier_covers_every_op_layout_alignment_and_dtype),
        cmocka_unit_test(test_quick_tier_reaches_the_tensor_core_gemms),
        cmocka_unit_test(test_every_tier_loads_and_precommit_holds_quick),
    };
    return cmocka_run_group_tests(tests, make_scratch, remove_scratch);
}
