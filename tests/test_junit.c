/* tests/test_junit.c: JUnit and JSON writers on hostile text (cli/junit.c, cli/summary.c).
 * Focus: a result whose key, variant name and message hold ESC, CR/LF, NUL-free control bytes,
 * invalid UTF-8 and markup still gives a JUnit file xmllint accepts and a JSON stage jq parses,
 * with the text kept (escaped), never dropped silently or passed raw.
 * SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cli/junit.h"
#include "cli/summary.h"

static const char hostile[] = "bad \x1b[31mred\r\nFAIL forged \xff\xfe <tag> & \"q\" \x01 caf\xc3\xa9";

/* One case, one (plugin-named) variant, one failure carrying the hostile text. */
typedef struct fake {
    mc_session s;
    mc_case c;
    mc_variant v;
    const mc_variant *vs[1];
    mc_work_item item;
    mc_result r;
} fake;

static void fake_init(fake *f)
{
    memset(f, 0, sizeof *f);
    snprintf(f->c.key, sizeof f->c.key, "gemm(m=1)\x1b]0;title\x07");
    f->v = (mc_variant){.backend = "cpu", .name = "plugin_\xc0\xaf_name"};
    f->vs[0] = &f->v;
    f->r = (mc_result){.case_index = 0, .variant_index = 0, .kind = MC_RESULT_FAIL_BOUND, .worst_index = -1};
    snprintf(f->r.message, sizeof f->r.message, "%s", hostile);
    f->s.cases.items = &f->c;
    f->s.cases.count = 1;
    f->s.variants = f->vs;
    f->s.n_variants = 1;
    f->s.items = &f->item;
    f->s.n_items = 1;
    f->s.results = &f->r;
    f->s.counts[MC_RESULT_FAIL_BOUND] = 1;
}

static int run_tool(const char *cmd)
{
    int rc = system(cmd);
    return rc == -1 ? -1 : WEXITSTATUS(rc);
}

static void test_junit_is_valid_xml(void **state)
{
    (void)state;
    if (run_tool("command -v xmllint >/dev/null") != 0)
        skip();
    fake f;
    fake_init(&f);
    char path[] = "/tmp/mc_junit_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *out = fdopen(fd, "w");
    mc_junit_begin(out);
    mc_junit_suite(out, &f.s, "correctness", 7, "0123abc");
    mc_junit_end(out);
    fclose(out);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "xmllint --noout '%s'", path);
    assert_int_equal(run_tool(cmd), 0);
    /* the text is kept, escaped: the forged line stays inside the attribute */
    snprintf(cmd, sizeof cmd, "grep -q 'red&#13;&#10;FAIL forged' '%s'", path);
    assert_int_equal(run_tool(cmd), 0);
    unlink(path);
}

static void test_json_stage_parses(void **state)
{
    (void)state;
    if (run_tool("command -v jq >/dev/null") != 0)
        skip();
    fake f;
    fake_init(&f);
    char path[] = "/tmp/mc_json_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *out = fdopen(fd, "w");
    mc_summary_json_stage(out, &f.s, "correctness", NULL, 0);
    fclose(out);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "jq -e '.results[0].message | test(\"FAIL forged\") and test(\"\\u001b\")' '%s' >/dev/null",
             path);
    assert_int_equal(run_tool(cmd), 0);
    snprintf(cmd, sizeof cmd, "iconv -f UTF-8 -t UTF-8 '%s' >/dev/null 2>&1", path); /* valid UTF-8 throughout */
    assert_int_equal(run_tool(cmd), 0);
    unlink(path);
}

/* The terminal summary shows the control bytes escaped: no line starts with the forged FAIL. */
static void test_terminal_summary_escapes(void **state)
{
    (void)state;
    fake f;
    fake_init(&f);
    char buf[4096] = {0};
    FILE *out = fmemopen(buf, sizeof buf - 1, "w");
    mc_summary_print(out, &f.s, 0, 0, true);
    fclose(out);
    assert_null(strchr(buf, '\x1b'));
    assert_null(strchr(buf, '\r'));
    assert_null(strstr(buf, "\nFAIL forged"));
    assert_non_null(strstr(buf, "red\\r\\nFAIL forged"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_junit_is_valid_xml),
        cmocka_unit_test(test_json_stage_parses),
        cmocka_unit_test(test_terminal_summary_escapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
