/* tests/test_report.c: the HTML report.
 * Focus: escaping of untrusted text (case keys and messages with < > & and quotes never become
 * markup), shell quoting of reproducers, number formats, SVG scales, ticks, markers and the ratio
 * interval plot at hand-computed pixels, and a whole report from a store built through the store
 * API: seven sections in order, real numbers, a planted script that stays text, a regression, a
 * change point. With MC_REPORT_SCALE=1 it also times a report over 100 runs x 10,000 cases
 * (MC_REPORT_SCALE_RUNS, MC_REPORT_SCALE_CASES change the size; MC_REPORT_SCALE_OUT keeps the page).
 * SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "db/store.h"
#include "cli/cli_report.h"
#include "db/compare_runs.h"
#include "reports/html.h"
#include "reports/report.h"
#include "reports/report_int.h"
#include "reports/svg.h"
#include "stats/peaks.h"

/* ---- capture of FILE output ---- */

typedef struct capture {
    FILE *f;
    char *buf;
    size_t len;
} capture;

static void capture_open(capture *c)
{
    c->buf = NULL;
    c->len = 0;
    c->f = open_memstream(&c->buf, &c->len);
    assert_non_null(c->f);
}

static const char *capture_text(capture *c)
{
    fflush(c->f);
    return c->buf;
}

static void capture_close(capture *c)
{
    fclose(c->f);
    free(c->buf);
}

static int count_of(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* ---- escaping and quoting ---- */

static const struct {
    const char *in, *out;
} escapes[] = {
    {"", ""},
    {"gemm(dtype=f32,m=5)", "gemm(dtype=f32,m=5)"},
    {"a<b", "a&lt;b"},
    {"x & y", "x &amp; y"},
    {"\"q\"", "&quot;q&quot;"},
    {"it's", "it&#39;s"},
    {"<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"},
    {"<img src=x onerror=alert('x')>", "&lt;img src=x onerror=alert(&#39;x&#39;)&gt;"},
    {"&amp;", "&amp;amp;"},
    {"tab\tnewline\n", "tab\tnewline\n"},
    {"bell\a esc\x1b del\x7f", "bell&#xFFFD; esc&#xFFFD; del&#xFFFD;"},
    {"\xc3\xbc \xe2\x9c\x93", "\xc3\xbc \xe2\x9c\x93"}, /* UTF-8 passes as it is */
};

static void test_html_escape_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof escapes / sizeof escapes[0]; i++) {
        char buf[256];
        size_t need = mc_html_escape(buf, sizeof buf, escapes[i].in);
        assert_string_equal(buf, escapes[i].out);
        assert_int_equal(need, strlen(escapes[i].out));
        capture c;
        capture_open(&c);
        mc_html_text(c.f, escapes[i].in);
        assert_string_equal(capture_text(&c), escapes[i].out);
        capture_close(&c);
    }
}

static void test_html_escape_never_cuts_an_entity(void **state)
{
    (void)state;
    char buf[8];
    assert_int_equal(mc_html_escape(buf, 6, "a<b"), 6); /* "a&lt;b" needs 6 + NUL */
    assert_string_equal(buf, "a&lt;");
    assert_int_equal(mc_html_escape(buf, 4, "a<b"), 6);
    assert_string_equal(buf, "a"); /* never "a&l" */
    assert_int_equal(mc_html_escape(buf, 1, "<"), 4);
    assert_string_equal(buf, "");
}

static const struct {
    const char *in, *out;
} quotes[] = {
    {"", "''"},
    {"gemm(dtype=f32,m=5)", "'gemm(dtype=f32,m=5)'"},
    {"it's", "'it'\\''s'"},
    {"$(rm -rf ~) `x` \"y\"", "'$(rm -rf ~) `x` \"y\"'"},
};

static void test_shell_quote(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof quotes / sizeof quotes[0]; i++) {
        char buf[128];
        assert_int_equal(mc_shell_quote(buf, sizeof buf, quotes[i].in), strlen(quotes[i].out));
        assert_string_equal(buf, quotes[i].out);
    }
}

static void test_formats(void **state)
{
    (void)state;
    static const struct {
        double ns;
        const char *out;
    } times[] = {{12.34, "12.3 ns"}, {4560, "4.56 us"}, {7.89e6, "7.89 ms"}, {1.234e9, "1.23 s"},
                 {999.96, "1 us"},   {0, "0 ns"},      {NAN, "n/a"},      {-1, "n/a"}};
    char buf[32];
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
        mc_fmt_time_ns(buf, sizeof buf, times[i].ns);
        assert_string_equal(buf, times[i].out);
    }
    mc_fmt_change(buf, sizeof buf, 1.123);
    assert_string_equal(buf, "+12.3%");
    mc_fmt_change(buf, sizeof buf, 0.5);
    assert_string_equal(buf, "-50.0%");
    mc_fmt_change(buf, sizeof buf, INFINITY);
    assert_string_equal(buf, "n/a");
    mc_fmt_num(buf, sizeof buf, 0.000123456);
    assert_string_equal(buf, "0.000123");
}

/* ---- SVG ---- */

static void test_scales(void **state)
{
    (void)state;
    mc_scale lin = mc_scale_make(0, 10, 0, 100, false);
    assert_true(fabs(mc_scale_map(&lin, 5) - 50) < 1e-12);
    assert_true(fabs(mc_scale_map(&lin, 12) - 120) < 1e-12); /* no clipping: callers clip */
    mc_scale lg = mc_scale_make(1, 100, 0, 200, true);
    assert_true(fabs(mc_scale_map(&lg, 10) - 100) < 1e-12);
    assert_true(fabs(mc_scale_map(&lg, 0) - 0) < 1e-12); /* log of <= 0 goes to the range start */
    mc_scale y = mc_scale_make(0, 1, 100, 0, false);     /* a y axis: up is smaller pixels */
    assert_true(fabs(mc_scale_map(&y, 0.25) - 75) < 1e-12);
}

static void expect_ticks(double lo, double hi, bool log, int max, const double *want, int n_want)
{
    double got[32];
    int n = mc_nice_ticks(lo, hi, log, max, got, 32);
    assert_int_equal(n, n_want);
    for (int i = 0; i < n; i++)
        assert_true(fabs(got[i] - want[i]) <= 1e-9 * fabs(want[i]) + 1e-12);
}

static void test_ticks(void **state)
{
    (void)state;
    expect_ticks(0, 1, false, 5, (const double[]){0, 0.2, 0.4, 0.6, 0.8, 1}, 6);
    expect_ticks(0.993, 1.012, false, 6, (const double[]){0.995, 1, 1.005, 1.01}, 4);
    expect_ticks(-3, 7, false, 5, (const double[]){-2, 0, 2, 4, 6}, 5);
    expect_ticks(1, 1000, true, 6, (const double[]){1, 10, 100, 1000}, 4);
    /* fewer than three decades: 1-2-5 steps */
    expect_ticks(16, 1024, true, 6, (const double[]){20, 50, 100, 200, 500, 1000}, 6);
    /* too many decades: every other one */
    expect_ticks(1e-3, 1e6, true, 5, (const double[]){1e-3, 1e-1, 10, 1e3, 1e5}, 5);
}

static void test_markers(void **state)
{
    (void)state;
    capture c;
    capture_open(&c);
    mc_svg_marker(c.f, MC_MARK_CIRCLE, 10, 20, 3, "mk");
    assert_string_equal(capture_text(&c), "<circle class=\"mk\" cx=\"10.0\" cy=\"20.0\" r=\"3.0\"/>");
    capture_close(&c);
    capture_open(&c);
    mc_svg_marker(c.f, MC_MARK_TRIANGLE_UP, 10, 20, 2, NULL); /* (0,-1.15), (-1.05,0.75), (1.05,0.75) x 2 */
    assert_string_equal(capture_text(&c), "<polygon points=\"10.0,17.7 7.9,21.5 12.1,21.5\"/>");
    capture_close(&c);
    capture_open(&c);
    mc_svg_marker(c.f, MC_MARK_SQUARE, 10, 20, 2, "a\"b"); /* even a class name is escaped */
    assert_string_equal(capture_text(&c),
                        "<rect class=\"a&quot;b\" x=\"8.3\" y=\"18.3\" width=\"3.4\" height=\"3.4\"/>");
    capture_close(&c);
    /* every marker draws something and has its own legend glyph */
    for (int m = 0; m < MC_MARK_COUNT; m++) {
        capture_open(&c);
        mc_svg_marker(c.f, (mc_marker)m, 50, 50, 4, "x");
        assert_true(strlen(capture_text(&c)) > 20);
        capture_close(&c);
        for (int k = 0; k < m; k++)
            assert_string_not_equal(mc_marker_glyph((mc_marker)m), mc_marker_glyph((mc_marker)k));
    }
}

static void test_svg_text_is_escaped(void **state)
{
    (void)state;
    capture c;
    capture_open(&c);
    mc_svg_text(c.f, 1, 2, "middle", "tick", "<b>&\"</b>");
    assert_string_equal(capture_text(&c),
                        "<text x=\"1.0\" y=\"2.0\" text-anchor=\"middle\" class=\"tick\">&lt;b&gt;&amp;&quot;&lt;/b&gt;"
                        "</text>");
    capture_close(&c);
    capture_open(&c);
    mc_svg_open(c.f, 100, 50, "chart", "a <label>");
    assert_string_equal(capture_text(&c), "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 100 50\" "
                                          "width=\"100\" height=\"50\" class=\"chart\" role=\"img\" "
                                          "aria-label=\"a &lt;label&gt;\">");
    capture_close(&c);
}

static void test_ratio_interval(void **state)
{
    (void)state;
    /* 200 px wide, 6 px padding, log axis 0.5..2: x(v) = 6 + 188 * log(v / 0.5) / log(4), so
     * x(1) = 100.0, x(1.2) = 124.7, x(1.9) = 187.0, x(1.5) = 155.0, x(1/1.03) = 96.0, x(1.03) = 104.0 */
    capture c;
    capture_open(&c);
    mc_ratio_plot rp = {.ratio = 1.5, .lo = 1.2, .hi = 1.9, .threshold = 0.03, .dmin = 0.5, .dmax = 2,
                        .mark = MC_MARK_TRIANGLE_UP, .cls = "slower"};
    mc_svg_ratio_interval(c.f, 200, 18, &rp);
    const char *s = capture_text(&c);
    assert_non_null(strstr(s, "<rect class=\"thr\" x=\"96.0\" y=\"1\" width=\"8.0\" height=\"16.0\"/>"));
    assert_non_null(strstr(s, "<line class=\"one\" x1=\"100.0\" x2=\"100.0\""));
    assert_non_null(strstr(s, "<line class=\"bar slower\" x1=\"124.7\" x2=\"187.0\" y1=\"9.0\" y2=\"9.0\"/>"));
    assert_non_null(strstr(s, "<polygon class=\"est slower\" points=\"155.0,"));
    assert_int_equal(count_of(s, "class=\"arrow\""), 0);
    assert_non_null(strstr(s, "<title>ratio 1.5, CI 1.2 to 1.9"));
    assert_true(strncmp(s, "<svg", 4) == 0);
    assert_non_null(strstr(s, "</svg>"));
    capture_close(&c);

    /* an unbounded CI runs off both ends: arrows, and the bar spans the padded width */
    capture_open(&c);
    rp = (mc_ratio_plot){.ratio = 3, .lo = 0, .hi = INFINITY, .threshold = 0.03, .dmin = 0.5, .dmax = 2,
                         .mark = MC_MARK_DIAMOND, .cls = "ambiguous"};
    mc_svg_ratio_interval(c.f, 200, 18, &rp);
    s = capture_text(&c);
    assert_int_equal(count_of(s, "class=\"arrow\""), 2);
    assert_non_null(strstr(s, "x1=\"6.0\" x2=\"194.0\""));
    assert_non_null(strstr(s, "CI 0 to unbounded"));
    assert_non_null(strstr(s, "<polygon class=\"est ambiguous\" points=\"194.0,")); /* clamped to the edge */
    capture_close(&c);
}

static void test_series_breaks_at_nan(void **state)
{
    (void)state;
    mc_plot p = {.width = 100, .height = 100, .left = 0, .right = 0, .top = 0, .bottom = 0};
    mc_plot_layout(&p, 0, 10, false, 0, 10, false);
    double x[] = {0, 5, 10, 10}, y[] = {0, NAN, 10, 5}, lo[] = {0, NAN, 9, 4}, hi[] = {1, NAN, 10, 6};
    mc_series s = {.x = x, .y = y, .lo = lo, .hi = hi, .n = 4, .mark = MC_MARK_SQUARE, .style = 9, .line = true,
                   .marker_r = 2, .title = "<t>"};
    capture c;
    capture_open(&c);
    mc_svg_series(c.f, &p, &s);
    const char *out = capture_text(&c);
    /* y runs up: y = 0 is pixel 100 */
    assert_non_null(strstr(out, "<path class=\"ln s1\" d=\"M0.0 100.0M100.0 0.0L100.0 50.0\"/>"));
    assert_int_equal(count_of(out, "<rect class=\"mk s1\""), 3); /* no marker at the NaN */
    assert_int_equal(count_of(out, "<polygon class=\"band s1\""), 2); /* the band breaks too */
    assert_int_equal(count_of(out, "<title>&lt;t&gt;</title>"), 3);
    capture_close(&c);
}

static void test_params_parse(void **state)
{
    (void)state;
    rp_params ps;
    rp_params_parse("{\"dtype\":\"f16\",\"m\":5,\"alpha\":0.5,\"layout_a\":\"a\\\"b\"}", &ps);
    assert_int_equal(ps.n, 4);
    assert_string_equal(rp_param_find(&ps, "dtype")->text, "f16");
    assert_false(rp_param_find(&ps, "dtype")->is_num);
    assert_true(rp_param_find(&ps, "m")->is_num);
    assert_true(rp_param_find(&ps, "m")->num == 5);
    assert_true(rp_param_find(&ps, "alpha")->num == 0.5);
    assert_string_equal(rp_param_find(&ps, "layout_a")->text, "a\"b");
    assert_null(rp_param_find(&ps, "n"));
    rp_params_parse("{}", &ps);
    assert_int_equal(ps.n, 0);
    rp_params_parse("not json", &ps);
    assert_int_equal(ps.n, 0);
}

/* ---- a whole report from a store built through the store API ---- */

static char tmpdir[64], db_path[128], html_path[128];
static char *html;                   /* the report's text */
static mc_report_stats stats;

#define EVIL_KEY "gemm(dtype=f32,m=<script>alert('k')</script>&\"q\")"
#define EVIL_MSG "bound exceeded <img src=x onerror=alert(1)> & more"
#define N_HISTORY 16 /* runs; the step lands at run 8 */

static void fill_machine(mc_run_info *info, int run)
{
    memset(info, 0, sizeof *info);
    snprintf(info->uuid, sizeof info->uuid, "%032d", run + 1);
    /* distinct from the first digit on, as real SHAs are, so short SHAs differ */
    snprintf(info->commit, sizeof info->commit, "%08x%032x", (unsigned)(run + 1) * 2654435761u, run);
    if (run)
        snprintf(info->parent, sizeof info->parent, "%08x%032x", (unsigned)run * 2654435761u, run - 1);
    snprintf(info->branch, sizeof info->branch, "feat/<i>x</i>");
    snprintf(info->tier, sizeof info->tier, "precommit");
    snprintf(info->command_line, sizeof info->command_line,
             "run --tier precommit --cases '/tmp/my cases.lua' --db /x.db --perf --filter=dtype=f16");
    /* the selection is stored as fields: the report reads these, not the command line above */
    snprintf(info->sel.tier, sizeof info->sel.tier, "precommit");
    snprintf(info->sel.cases, sizeof info->sel.cases, "/tmp/my cases.lua");
    snprintf(info->sel.filter, sizeof info->sel.filter, "dtype=f16");
    snprintf(info->sel.backends, sizeof info->sel.backends, "cpu"); /* a field the command line lacks */
    snprintf(info->tool_version, sizeof info->tool_version, "test");
    snprintf(info->mode, sizeof info->mode, "independent");
    snprintf(info->start_time, sizeof info->start_time, "2026-01-01T00:%02d:00Z", run);
    mc_machine *m = &info->machine;
    snprintf(m->cpu_model, sizeof m->cpu_model, "Test CPU <model>");
    m->cores = 4;
    snprintf(m->os, sizeof m->os, "TestOS");
    mc_machine_fingerprint(m);
}

/* A result row with its own mc_result and, when samples_at > 0, a timing of 20 samples around it. */
typedef struct row_spec {
    const char *key, *op, *params, *variant, *hash, *kind, *message;
    double samples_at;
} row_spec;

/* loadavg (NULL: all 0) gives each timing's load average. */
static void store_rows_load(mc_store *s, int64_t run, const row_spec *specs, int n, const double *loadavg)
{
    enum { MAX_ROWS = 24 };
    mc_result_row rows[MAX_ROWS];
    mc_result res[MAX_ROWS];
    mc_timing tim[MAX_ROWS];
    double samples[MAX_ROWS][20];
    assert_true(n <= MAX_ROWS);
    for (int i = 0; i < n; i++) {
        memset(&res[i], 0, sizeof res[i]);
        res[i].kind = (mc_result_kind)mc_result_kind_parse(specs[i].kind);
        res[i].worst_index = -1;
        res[i].worst_out = res[i].worst_ref = res[i].worst_err = res[i].worst_bound = NAN;
        res[i].max_ratio = res[i].nmse = NAN;
        if (res[i].kind == MC_RESULT_FAIL_BOUND) {
            res[i].worst_index = 7;
            res[i].worst_out = 1.5;
            res[i].worst_ref = 1.25;
            res[i].worst_err = 0.25;
            res[i].worst_bound = 0.001;
            res[i].max_ratio = 250;
        }
        if (res[i].kind == MC_RESULT_CRASH)
            res[i].signal = 11;
        snprintf(res[i].message, sizeof res[i].message, "%s", specs[i].message ? specs[i].message : "");
        rows[i] = (mc_result_row){.case_key = specs[i].key, .op_name = specs[i].op, .params_json = specs[i].params,
                                  .backend = "cpu", .variant_name = specs[i].variant, .code_hash = specs[i].hash,
                                  .res = &res[i]};
        if (specs[i].samples_at > 0) {
            for (int k = 0; k < 20; k++)
                samples[i][k] = specs[i].samples_at * (1 + 0.0005 * k);
            memset(&tim[i], 0, sizeof tim[i]);
            tim[i].n = 20;
            tim[i].samples_ns = samples[i];
            tim[i].calls_per_sample = 1;
            assert_int_equal(mc_timing_finish(&tim[i], 0.95, NULL), MC_OK);
            mc_timing_set_rates(&tim[i], 2e6, 1e6);
            tim[i].loadavg = loadavg ? loadavg[i] : 0;
            tim[i].cpu_mhz = 3000;
            rows[i].timing = &tim[i];
        }
    }
    mc_err err = {0};
    assert_int_equal(mc_store_add_results(s, run, rows, n, &err), MC_OK);
}

static void store_rows(mc_store *s, int64_t run, const row_spec *specs, int n)
{
    store_rows_load(s, run, specs, n, NULL);
}

#define SDPA_PARAMS(nkv) "{\"dtype\":\"f32\",\"n_q\":1,\"n_kv\":" #nkv ",\"heads\":2,\"q_offset\":0}"

/* Sixteen runs of one history; the last is the candidate, the one before its base. In the
 * candidate: sdpa_slow regressed 1.5x with changed code, a bound failure under an evil key, a
 * crash, a coverage failure; sdpa_step's level rose 30% at run 8. */
static void build_db(mc_store *s, int64_t *base, int64_t *cand)
{
    static const int nkv[] = {16, 64, 256, 1024};
    static const char *const params[] = {SDPA_PARAMS(16), SDPA_PARAMS(64), SDPA_PARAMS(256), SDPA_PARAMS(1024)};
    static const char *const keys[] = {"sdpa(n_kv=16,heads=2)", "sdpa(n_kv=64,heads=2)", "sdpa(n_kv=256,heads=2)",
                                       "sdpa(n_kv=1024,heads=2)"};
    mc_err err = {0};
    for (int run = 0; run < N_HISTORY; run++) {
        mc_run_info info;
        fill_machine(&info, run);
        int64_t id = 0;
        assert_int_equal(mc_store_begin_run(s, &info, &id, &err), MC_OK);
        bool last = run == N_HISTORY - 1;
        row_spec rows[24];
        int n = 0;
        for (int k = 0; k < 4; k++) {
            /* fused is faster at small n_kv, flash past 256: a crossover between 64 and 256 */
            double fused = 100.0 * nkv[k], flash = 3000 + 60.0 * nkv[k];
            double slow = (last ? 1.5 : 1.0) * 300.0 * nkv[k];
            double step = (run >= 8 ? 1.3 : 1.0) * 250.0 * nkv[k];
            rows[n++] = (row_spec){keys[k], "sdpa", params[k], "sdpa_fused", "00000000000000aa", "pass", "", fused};
            rows[n++] = (row_spec){keys[k], "sdpa", params[k], "sdpa_flash", "00000000000000bb", "pass", "", flash};
            rows[n++] = (row_spec){keys[k], "sdpa", params[k], "sdpa_slow", last ? "00000000000000c2" : "00000000000000c1",
                                   "pass", "", slow};
            rows[n++] = (row_spec){keys[k], "sdpa", params[k], "sdpa_step", "00000000000000dd", "pass", "", step};
        }
        if (last) {
            rows[n++] = (row_spec){EVIL_KEY, "gemm", "{\"dtype\":\"f32\",\"m\":5,\"align\":2}", "gemm_evil",
                                   "00000000000000ee", "bound", EVIL_MSG, 0};
            rows[n++] = (row_spec){"gemm(dtype=f16,m=3)", "gemm", "{\"dtype\":\"f16\",\"m\":3,\"layout_a\":\"transposed\"}",
                                   "gemm_crashy", "00000000000000ff", "crash", "worker died", 0};
            rows[n++] = (row_spec){"(coverage)", "gemm", "{}", "gemm_gated", "", "coverage",
                                   "its probe says it can run here, but it ran 0 of the 4 cases offered to it", 0};
            /* offered a case and declined it: a skip cell and a coverage failure */
            rows[n++] = (row_spec){"gemm(dtype=f16,m=3)", "gemm", "{\"dtype\":\"f16\",\"m\":3,\"layout_a\":\"transposed\"}",
                                   "gemm_declines", "0000000000000011", "skip", "declines f16", 0};
            rows[n++] = (row_spec){"(coverage)", "gemm", "{}", "gemm_declines", "", "coverage", "ran 0 of 1", 0};
        }
        store_rows(s, id, rows, n);
        assert_int_equal(mc_store_end_run(s, id, last ? "failed" : "passed", &err), MC_OK);
        if (run == N_HISTORY - 2)
            *base = id;
        if (last)
            *cand = id;
    }
    mc_run_info info;
    fill_machine(&info, 0);
    assert_int_equal(mc_store_set_machine_peak(s, &info.machine, "read_gbs", 20, "GB/s", &err), MC_OK);
    assert_int_equal(mc_store_set_machine_peak(s, &info.machine, "copy_gbs", 15, "GB/s", &err), MC_OK);
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) == (size_t)n)
        buf[n] = '\0';
    fclose(f);
    return buf;
}

static int setup_report(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/mc_report_XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    snprintf(db_path, sizeof db_path, "%s/r.db", tmpdir);
    snprintf(html_path, sizeof html_path, "%s/r.html", tmpdir);
    mc_store *s = NULL;
    mc_err err = {0};
    if (mc_store_open(db_path, &s, &err) != MC_OK)
        return -1;
    int64_t base = 0, cand = 0;
    build_db(s, &base, &cand);
    mc_report_opts o = {.cand_run = cand, .base_run = base, .out_path = html_path};
    o.variants = mc_cli_report_variants(&o.n_variants); /* the binary's variants, as the CLI passes them */
    mc_status st = mc_report_write_opts(s, &o, &stats, &err);
    mc_store_close(s);
    if (st) {
        fprintf(stderr, "report: %s\n", err.msg);
        return -1;
    }
    html = read_all(html_path);
    return html ? 0 : -1;
}

static int teardown_report(void **state)
{
    (void)state;
    free(html);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_report_sections_in_order(void **state)
{
    (void)state;
    static const char *const ids[] = {"id=\"banner\"",  "id=\"failures\"", "id=\"changes\"", "id=\"history\"",
                                      "id=\"sweeps\"",  "id=\"coverage\"", "id=\"roofline\""};
    const char *at = html;
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        const char *next = strstr(at, ids[i]);
        if (!next)
            fail_msg("section %s missing or out of order", ids[i]);
        at = next;
    }
    assert_true(strncmp(html, "<!DOCTYPE html>", 15) == 0);
    assert_non_null(strstr(html, "</html>"));
}

static void test_report_untrusted_text_stays_text(void **state)
{
    (void)state;
    /* the planted markup shows escaped, and never as a tag */
    assert_non_null(strstr(html, "m=&lt;script&gt;alert(&#39;k&#39;)&lt;/script&gt;&amp;&quot;q&quot;)"));
    assert_non_null(strstr(html, "bound exceeded &lt;img src=x onerror=alert(1)&gt; &amp; more"));
    assert_null(strstr(html, "<img"));
    assert_int_equal(count_of(html, "<script>"), 1); /* ours, at the end */
    assert_null(strstr(html, "alert('k')"));
    assert_non_null(strstr(html, "Test CPU &lt;model&gt;"));
    assert_non_null(strstr(html, " on feat/&lt;i&gt;x&lt;/i&gt;"));
    assert_null(strstr(html, "<i>"));
    /* the reproducer: shell-quoted ('\'' for the quote), then escaped */
    assert_non_null(strstr(html, "metallic-check repro &#39;gemm(dtype=f32,m=&lt;script&gt;alert(&#39;\\&#39;&#39;k"));
    /* nothing is fetched from anywhere: the only URL is the SVG namespace */
    assert_null(strstr(html, "https://"));
    assert_int_equal(count_of(html, "http://"), count_of(html, "xmlns=\"http://www.w3.org/2000/svg\""));
    assert_non_null(strstr(html, "default-src 'none'"));
}

static void test_report_banner_and_failures(void **state)
{
    (void)state;
    assert_non_null(strstr(html, "<span id=\"overall\">failed</span>"));
    assert_non_null(strstr(html, "<b data-count=\"pass\">16</b> pass"));
    assert_non_null(strstr(html, "<b data-count=\"bound\">1</b> bound"));
    assert_non_null(strstr(html, "<b data-count=\"crash\">1</b> crash"));
    assert_non_null(strstr(html, "<b data-count=\"coverage\">2</b> coverage"));
    assert_non_null(strstr(html, "<b data-count=\"skip\">1</b> skip"));
    assert_non_null(strstr(html, "<b data-count=\"total\">21</b> results"));
    /* short SHAs of the base (run 15) and the candidate (run 16) */
    char sha[64];
    snprintf(sha, sizeof sha, "<code>%08x0000</code>", 15u * 2654435761u);
    assert_non_null(strstr(html, sha));
    snprintf(sha, sizeof sha, "<code>%08x0000</code>", 16u * 2654435761u);
    assert_non_null(strstr(html, sha));
    assert_int_equal(stats.n_failures, 4);
    /* crash before bound (memory safety first); the worst element beside its bound */
    const char *crash = strstr(html, "k-crash"), *bound = strstr(html, "k-bound");
    assert_non_null(crash);
    assert_non_null(bound);
    assert_true(crash < bound);
    assert_non_null(strstr(html, "SIGSEGV (11)"));
    assert_non_null(strstr(html, "<td>[7] out 1.5, ref 1.25</td><td class=\"num\">0.25 &gt; 0.001 (&times;250 of bound)"));
    /* a coverage failure re-runs the variant on the run's own selection, as stored (not --db, not --perf) */
    assert_non_null(strstr(html, "metallic-check run --tier precommit --cases &#39;/tmp/my cases.lua&#39; --backend "
                                 "cpu --filter dtype=f16 --variant &#39;gemm_gated&#39; --verbose"));
}

static void test_report_regression(void **state)
{
    (void)state;
    assert_false(stats.verdicts_stored);
    assert_int_equal(stats.n_compared, 16);
    assert_int_equal(stats.n_slower, 4);      /* sdpa_slow at every n_kv */
    assert_int_equal(stats.n_regressions, 4); /* its code hash changed */
    assert_non_null(strstr(html, "+50.0%"));
    assert_non_null(strstr(html, "class=\"bar slower\""));
    assert_non_null(strstr(html, "<b>changed</b>"));
    assert_non_null(strstr(html, "slower for all 4 cases compared")); /* the parameter group */
}

static void test_report_history_and_sweep(void **state)
{
    (void)state;
    assert_int_equal(stats.n_history_commits, N_HISTORY);
    assert_int_equal(stats.n_history_series, 4);
    /* sdpa_step: one change point at run 8, +30%; it sorts first (largest step) */
    const char *step = strstr(html, "<b>sdpa_step</b>");
    assert_non_null(step);
    assert_non_null(strstr(step, "1 change point"));
    assert_non_null(strstr(html, "\u25B2 +30.0%"));
    /* sdpa_slow's code hash changed at the last commit */
    char changed[64];
    snprintf(changed, sizeof changed, "code changed at %08x0000", 16u * 2654435761u);
    assert_non_null(strstr(html, changed));
    /* the sweep: fused (100 n) wins at 16 and 64, flash (3000 + 60 n) at 256 and 1024. Between the
     * measured 64 and 256 the log-log lines cross at d0 = ln(6400/6840), d1 = ln(25600/18360),
     * n = 64 * 4^(d0 / (d0 - d1)) = 80.6; at 256 flash is 25600/18360 = 1.39x faster */
    assert_non_null(strstr(html, "variants against n_kv (keys per head)"));
    assert_non_null(strstr(html, "Crossover at n_kv &asymp; 80.6: <b>sdpa_flash</b> overtakes sdpa_fused "
                                 "(1.39&times; faster at 256)."));
    assert_int_equal(count_of(html, "<p class=\"crossover\">"), 1);
}

static void test_report_coverage_and_roofline(void **state)
{
    (void)state;
    /* gemm_evil failed with align 2; gemm_crashy failed with a transposed A; gemm_gated ran nothing */
    assert_non_null(strstr(html, "id=\"cov-gemm\""));
    assert_non_null(strstr(html, "<th>transposed</th>"));
    assert_non_null(strstr(html, "\u2717 coverage failure: its probe says it can run here"));
    assert_non_null(strstr(html, "gemm_declines <small>cpu</small> <span class=\"kind\" title=\"ran 0 of 1\">"
                                 "\u2717 coverage</span></th><td class=\"gap\" title=\"nothing ran here\">&ndash;1</td>"));
    /* every registered variant that never ran shows as such */
    assert_non_null(strstr(html, "never ran in this run"));
    /* peaks as stored; rates: 2e6 flop and 1e6 bytes per call over the median */
    assert_non_null(strstr(html, "read <b>20 GB/s</b>, copy <b>15 GB/s</b> (as stored for this machine)"));
    assert_int_equal(stats.n_roofline_points, 16);
    assert_non_null(strstr(html, "id=\"roofline-table\""));
}

/* ---- a store without a single timing ---- */

/* Issue 13 item 8: every empty list of the report (history rows, sweep points, failures) once
 * went to qsort as (NULL, 0), which UBSan's nonnull check stops: the sanitizer build could not
 * report on a correctness-only database. Run under MC_SANITIZE=ON to see it. */
static void test_report_without_timings(void **state)
{
    (void)state;
    char path[160], out[160];
    snprintf(path, sizeof path, "%s/untimed.db", tmpdir);
    snprintf(out, sizeof out, "%s/untimed.html", tmpdir);
    mc_store *s = NULL;
    mc_err err = {0};
    assert_int_equal(mc_store_open(path, &s, &err), MC_OK);
    int64_t ids[2] = {0, 0};
    for (int run = 0; run < 2; run++) {
        mc_run_info info;
        fill_machine(&info, run);
        assert_int_equal(mc_store_begin_run(s, &info, &ids[run], &err), MC_OK);
        row_spec rows[] = {{"gemm(dtype=f32,m=5)", "gemm", "{\"dtype\":\"f32\",\"m\":5}", "gemm_a", "00000000000000aa",
                            "pass", "", 0}};
        store_rows(s, ids[run], rows, 1);
        assert_int_equal(mc_store_end_run(s, ids[run], "passed", &err), MC_OK);
    }
    mc_report_opts o = {.cand_run = ids[1], .base_run = ids[0], .out_path = out};
    mc_report_stats st;
    assert_int_equal(mc_report_write_opts(s, &o, &st, &err), MC_OK);
    o.base_run = 0; /* and with no base at all */
    assert_int_equal(mc_report_write_opts(s, &o, &st, &err), MC_OK);
    mc_store_close(s);
    assert_int_equal(st.n_results, 1);
    assert_int_equal(st.n_compared, 0);
    assert_int_equal(st.n_history_series, 0);
    char *page = read_all(out);
    assert_non_null(page);
    assert_non_null(strstr(page, "history starts with the second perf run"));
    free(page);
}

/* ---- what a change means comes before how large it is (issue 12 item 14) ---- */

/* A run of commit number `commit` (several runs may share one), with shard "I/N" or "". */
static int64_t begin_run(mc_store *s, int run, int commit, const char *shard)
{
    mc_run_info info;
    fill_machine(&info, run);
    snprintf(info.commit, sizeof info.commit, "%08x%032x", (unsigned)(commit + 1) * 2654435761u, commit);
    info.parent[0] = '\0'; /* no parent: the default base is the newest earlier run */
    snprintf(info.shard, sizeof info.shard, "%s", shard);
    int64_t id = 0;
    mc_err err = {0};
    assert_int_equal(mc_store_begin_run(s, &info, &id, &err), MC_OK);
    return id;
}

static void end_run(mc_store *s, int64_t id)
{
    mc_err err = {0};
    assert_int_equal(mc_store_end_run(s, id, "passed", &err), MC_OK);
}

static mc_store *open_db(const char *name, char *path, size_t cap)
{
    snprintf(path, cap, "%s/%s", tmpdir, name);
    mc_store *s = NULL;
    mc_err err = {0};
    assert_int_equal(mc_store_open(path, &s, &err), MC_OK);
    return s;
}

/* The body of the first <tr> of the table with this id. */
static char *first_row_of(const char *page, const char *table_id)
{
    char want[64];
    snprintf(want, sizeof want, "id=\"%s\"", table_id);
    const char *t = strstr(page, want);
    assert_non_null(t);
    const char *row = strstr(strstr(t, "<tbody>"), "<tr");
    const char *end = strstr(row, "</tr>");
    assert_non_null(end);
    size_t n = (size_t)(end - row);
    char *out = malloc(n + 1);
    memcpy(out, row, n);
    out[n] = '\0';
    return out;
}

#define KEYS_N 20

/* A real +14% regression (its code changed) among 19 larger slower or faster changes of
 * unchanged code (noise/environment) and one improvement: the old order (largest first) put the
 * regression last. */
static void test_report_regression_first(void **state)
{
    (void)state;
    char path[160], out[160];
    mc_store *s = open_db("order.db", path, sizeof path);
    snprintf(out, sizeof out, "%s/order.html", tmpdir);
    static char keys[KEYS_N][48], params[KEYS_N][64];
    int64_t ids[2];
    for (int run = 0; run < 2; run++) {
        ids[run] = begin_run(s, run, run, "");
        row_spec rows[KEYS_N];
        for (int k = 0; k < KEYS_N; k++) {
            snprintf(keys[k], sizeof keys[k], "gemm(dtype=f32,m=%d)", 10 + k);
            snprintf(params[k], sizeof params[k], "{\"dtype\":\"f32\",\"m\":%d}", 10 + k);
            double noise = k % 2 ? 1.3 + 0.02 * k : 1 / (1.3 + 0.02 * k); /* slower and faster, same code */
            rows[k] = (row_spec){keys[k], "gemm", params[k], "gemm_noisy", "00000000000000aa", "pass", "",
                                 1000.0 * (run ? noise : 1)};
        }
        rows[3] = (row_spec){keys[3], "gemm", params[3], "gemm_real", run ? "00000000000000c2" : "00000000000000c1",
                             "pass", "", 1000.0 * (run ? 1.14 : 1)};
        rows[4] = (row_spec){keys[4], "gemm", params[4], "gemm_better", run ? "00000000000000d2" : "00000000000000d1",
                             "pass", "", 1000.0 * (run ? 0.5 : 1)};
        store_rows(s, ids[run], rows, KEYS_N);
        end_run(s, ids[run]);
    }
    mc_report_opts o = {.cand_run = ids[1], .base_run = ids[0], .out_path = out};
    mc_report_stats st;
    mc_err err = {0};
    assert_int_equal(mc_report_write_opts(s, &o, &st, &err), MC_OK);
    mc_store_close(s);
    assert_int_equal(st.n_compared, KEYS_N);
    assert_int_equal(st.n_regressions, 1);
    char *page = read_all(out);
    assert_non_null(page);
    char *first = first_row_of(page, "change-table");
    assert_non_null(strstr(first, "gemm_real")); /* row 1: the regression */
    assert_non_null(strstr(first, "+14.0%"));
    assert_non_null(strstr(first, "regression"));
    free(first);
    /* then the improvement, then the noise rows */
    const char *table = strstr(page, "id=\"change-table\"");
    const char *better = strstr(table, "gemm_better"), *noisy = strstr(table, "gemm_noisy");
    assert_non_null(better);
    assert_non_null(noisy);
    assert_true(better < noisy);
    /* the group carries its size and CI: a change of +14.0% and the CI bounds in numbers */
    char *group = first_row_of(page, "group-table");
    assert_non_null(strstr(group, "gemm_real"));
    assert_non_null(strstr(group, "+14.0%"));
    assert_non_null(strstr(group, "class=\"bar slower\""));
    assert_non_null(strstr(group, "<td class=\"num\">1.1")); /* CI 1.1x-1.1x */
    free(group);
    free(page);
}

/* ---- the history point is the median of a commit's runs ---- */

static const rp_history *history_of(const rp_report *r, const char *variant)
{
    for (int i = 0; i < r->n_hist; i++)
        if (strcmp(r->hist[i].variant, variant) == 0)
            return &r->hist[i];
    return NULL;
}

/* Five commits at one level, then a commit whose kernel regressed +14% in two runs and ran once
 * 3.3x faster (an outlier): the geometric mean of the three runs (0.73) drew the regression as
 * faster; the median (1.14) draws it as it is, and the three runs show as dots. */
static void test_report_history_median(void **state)
{
    (void)state;
    char path[160], out[160];
    mc_store *s = open_db("median.db", path, sizeof path);
    snprintf(out, sizeof out, "%s/median.html", tmpdir);
    static const double last[] = {1.14, 0.3, 1.14};
    int64_t cand = 0;
    for (int run = 0; run < 8; run++) {
        int commit = run < 5 ? run : 5;
        cand = begin_run(s, run, commit, "");
        double level = run < 5 ? 1 : last[run - 5];
        row_spec rows[] = {{"softmax(rows=4,cols=256)", "softmax", "{\"dtype\":\"f32\",\"rows\":4,\"cols\":256}",
                            "softmax_x", "00000000000000aa", "pass", "", 1000 * level}};
        store_rows(s, cand, rows, 1);
        end_run(s, cand);
    }
    mc_report_opts o = {.cand_run = cand, .out_path = out};
    rp_report r;
    mc_err err = {0};
    assert_int_equal(rp_load(s, &o, &r, &err), MC_OK);
    assert_int_equal(r.n_commits, 6);
    const rp_history *h = history_of(&r, "softmax_x");
    assert_non_null(h);
    for (int c = 0; c < 5; c++)
        assert_true(fabs(h->y[c] - 1) < 1e-9);
    assert_true(fabs(h->y[5] - 1.14) < 1e-9); /* the median run, not exp(mean log) = 0.73 */
    assert_int_equal(h->n_dots, 8);
    rp_free(&r);
    mc_report_stats st;
    assert_int_equal(mc_report_write_opts(s, &o, &st, &err), MC_OK);
    mc_store_close(s);
    char *page = read_all(out);
    assert_non_null(page);
    assert_int_equal(count_of(page, "class=\"dot s0\""), 3); /* the runs of the commit that has three */
    free(page);
}

/* ---- merged shards read as one run ---- */

static void test_group_runs(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int n;
        rp_run_tag tags[6];
        int want[6], groups;
    } cases[] = {
        {"unsharded runs are one each", 3, {{1, 1, 0, 0}, {1, 1, 0, 0}, {2, 1, 0, 0}}, {0, 1, 2}, 3},
        {"two shards of one commit", 2, {{1, 1, 0, 2}, {1, 1, 1, 2}}, {0, 0}, 1},
        {"a sharded run done twice", 4, {{1, 1, 0, 2}, {1, 1, 1, 2}, {1, 1, 0, 2}, {1, 1, 1, 2}}, {0, 0, 1, 1}, 2},
        {"interleaved commits", 4, {{1, 1, 1, 2}, {2, 1, 0, 2}, {1, 1, 0, 2}, {2, 1, 1, 2}}, {0, 1, 0, 1}, 2},
        {"another tier or N stays apart", 4, {{1, 1, 0, 2}, {1, 2, 1, 2}, {1, 1, 1, 3}, {1, 1, 2, 3}}, {0, 1, 2, 2}, 3},
        {"a shard between unsharded runs", 3, {{1, 1, 0, 0}, {1, 1, 0, 2}, {1, 1, 1, 2}}, {0, 1, 1}, 2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int group[6];
        int n = rp_group_runs(cases[i].tags, cases[i].n, group);
        if (n != cases[i].groups)
            fail_msg("%s: %d groups, wanted %d", cases[i].name, n, cases[i].groups);
        for (int k = 0; k < cases[i].n; k++)
            if (group[k] != cases[i].want[k])
                fail_msg("%s: run %d in group %d, wanted %d", cases[i].name, k, group[k], cases[i].want[k]);
    }
    int index = 0, count = 0;
    assert_true(rp_shard_parse("1/2", &index, &count));
    assert_int_equal(index, 1);
    assert_int_equal(count, 2);
    assert_false(rp_shard_parse("2/2", &index, &count));
    assert_false(rp_shard_parse("0/1", &index, &count));
    assert_false(rp_shard_parse("1/2x", &index, &count));
    assert_false(rp_shard_parse("", &index, &count));
}

/* Commit 0 ran as shards 0/2 and 1/2 twice (two logical runs), commit 1 once; each shard holds two
 * of the four cases. The candidate is commit 1's last shard: its base is commit 0, never its own
 * other shard, and its page covers all four cases. */
static void test_report_merged_shards(void **state)
{
    (void)state;
    char path[160], out[160];
    mc_store *s = open_db("shards.db", path, sizeof path);
    snprintf(out, sizeof out, "%s/shards.html", tmpdir);
    static const char *const keys[] = {"gemv(m=1)", "gemv(m=2)", "gemv(m=3)", "gemv(m=4)"};
    static const char *const shards[] = {"0/2", "1/2"};
    int64_t ids[6];
    for (int run = 0; run < 6; run++) {
        int commit = run < 4 ? 0 : 1, shard = run % 2;
        ids[run] = begin_run(s, run, commit, shards[shard]);
        double t = commit ? 1300 : (run < 2 ? 1000 : 1010);
        row_spec rows[2];
        for (int k = 0; k < 2; k++)
            rows[k] = (row_spec){keys[2 * shard + k], "gemv", "{\"dtype\":\"f32\",\"m\":1}", "gemv_y",
                                 commit ? "00000000000000b2" : "00000000000000b1", "pass", "", t};
        store_rows(s, ids[run], rows, 2);
        end_run(s, ids[run]);
    }
    mc_err err = {0};
    int64_t base = 0, parts[8];
    int n_parts = 0;
    assert_int_equal(mc_report_logical_run(s, ids[5], parts, 8, &n_parts, &err), MC_OK);
    assert_int_equal(n_parts, 2);
    assert_true(parts[0] == ids[4] && parts[1] == ids[5]);
    assert_int_equal(mc_report_logical_run(s, ids[0], parts, 8, &n_parts, &err), MC_OK);
    assert_int_equal(n_parts, 2); /* the first of the two sharded runs of commit 0 */
    assert_true(parts[0] == ids[0] && parts[1] == ids[1]);
    assert_int_equal(mc_compare_default_base(s, ids[5], false, &base, &err), MC_OK);
    assert_true(base == ids[3]); /* commit 0's newest run, not shard 0/2 of the candidate's own run */
    mc_report_opts o = {.cand_run = ids[5], .base_run = base, .out_path = out};
    mc_report_stats st;
    assert_int_equal(mc_report_write_opts(s, &o, &st, &err), MC_OK);
    assert_int_equal(st.n_cand_runs, 2);
    assert_int_equal(st.n_base_runs, 2);
    assert_int_equal(st.n_results, 4);
    assert_int_equal(st.n_compared, 4); /* every case against its shard in the base */
    assert_int_equal(st.n_no_baseline, 0);
    assert_int_equal(st.n_regressions, 4);
    assert_int_equal(st.n_history_commits, 2);
    rp_report r;
    assert_int_equal(rp_load(s, &o, &r, &err), MC_OK);
    const rp_history *h = history_of(&r, "gemv_y");
    assert_non_null(h);
    assert_int_equal(h->n_dots, 3); /* two logical runs of commit 0, one of commit 1: not six */
    rp_free(&r);
    mc_store_close(s);
    char *page = read_all(out);
    assert_non_null(page);
    char want[96];
    snprintf(want, sizeof want, "one run of #%lld (shard 0/2) + #%lld (shard 1/2), merged", (long long)ids[4],
             (long long)ids[5]);
    assert_non_null(strstr(page, want));
    free(page);
}

/* ---- data other parts of the tool may store: no baseline, load, captured output ---- */

/* The base timed one of the candidate's four pairs (a narrowed run): three pairs have no
 * baseline, said in numbers, never read as "no regression". Both runs ran under a load average
 * of 9 on 4 CPUs (limit 6). A store with a result column `output` shows a failure's output. */
static void test_report_no_baseline_load_and_output(void **state)
{
    (void)state;
    char path[160], out[160];
    mc_store *s = open_db("nobase.db", path, sizeof path);
    snprintf(out, sizeof out, "%s/nobase.html", tmpdir);
    static const char *const keys[] = {"softmax(cols=1)", "softmax(cols=2)", "softmax(cols=3)", "softmax(cols=4)"};
    int64_t ids[2];
    for (int run = 0; run < 2; run++) {
        ids[run] = begin_run(s, run, run, "");
        row_spec rows[5];
        double load[5] = {9, 0.5, 0.5, 0.5, 0.5};
        int n = run ? 4 : 1;
        for (int k = 0; k < n; k++)
            rows[k] = (row_spec){keys[k], "softmax", "{\"dtype\":\"f32\",\"cols\":1}", "softmax_z", "00000000000000ab",
                                 "pass", "", 1000};
        if (run)
            rows[n++] = (row_spec){"softmax(cols=5)", "softmax", "{\"cols\":5}", "softmax_z", "00000000000000ab", "bound",
                                   "out of bound", 0};
        store_rows_load(s, ids[run], rows, n, load);
        end_run(s, ids[run]);
    }
    mc_store_close(s);
    /* the store keeps each result's captured output in result.output (schema migration 3+) */
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "UPDATE result SET output = "
                                  "'kernel says <b>hi</b>' || char(10) || 'last line' WHERE kind = 'bound'",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    mc_err err = {0};
    s = open_db("nobase.db", path, sizeof path);
    mc_report_opts o = {.cand_run = ids[1], .base_run = ids[0], .out_path = out};
    mc_report_stats st;
    assert_int_equal(mc_report_write_opts(s, &o, &st, &err), MC_OK);
    mc_store_close(s);
    assert_int_equal(st.n_compared, 1);
    assert_int_equal(st.n_no_baseline, 3);
    assert_true(st.timings_unreliable);
    char *page = read_all(out);
    assert_non_null(page);
    assert_non_null(strstr(page, "<b id=\"no-baseline-count\">3</b> no baseline"));
    assert_non_null(strstr(page, "<b>3</b> of the candidate's 4 timed (case, variant) pairs have <b>no baseline</b>"));
    assert_non_null(strstr(page, "id=\"nobase-table\""));
    assert_non_null(strstr(page, "softmax(cols=4)"));
    assert_non_null(strstr(page, "id=\"env-warning\""));
    assert_non_null(strstr(page, "<b>1 of 4 timings</b> ran with a 1-minute load average above 6 (up to <b>9</b>"));
    assert_non_null(strstr(page, "<li>The base: <b>1 of 1 timings</b>"));
    assert_non_null(strstr(page, "<pre>kernel says &lt;b&gt;hi&lt;/b&gt;\nlast line</pre>"));
    free(page);
}

/* Without those data (the main fixture's store: no output column, quiet timings, a full base),
 * none of it shows and nothing breaks. */
static void test_report_absent_data_degrades(void **state)
{
    (void)state;
    assert_null(strstr(html, "captured output"));
    assert_null(strstr(html, "id=\"env-warning\""));
    assert_null(strstr(html, "id=\"no-baseline\""));
    assert_non_null(strstr(html, "<b id=\"no-baseline-count\">0</b> no baseline"));
    assert_int_equal(stats.n_no_baseline, 0);
    assert_false(stats.timings_unreliable);
    assert_int_equal(stats.n_cand_runs, 1);
}

/* ---- scale: 100 runs x 10,000 cases (MC_REPORT_SCALE=1) ---- */

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int env_int(const char *name, int def)
{
    const char *v = getenv(name);
    return v && *v ? atoi(v) : def;
}

/* Each run: every case by two variants of its op (correctness results), one in ten of them timed
 * with 16 samples; the code hash of one variant changes half-way. */
static void scale_run(mc_store *s, int run, int n_cases, int64_t *id)
{
    static const char *const ops[] = {"gemm", "gemv", "softmax", "sdpa"};
    mc_run_info info;
    mc_err err = {0};
    fill_machine(&info, run);
    snprintf(info.start_time, sizeof info.start_time, "2026-01-%02dT%02d:%02d:00Z", 1 + run / 1440,
             (run / 60) % 24, run % 60);
    assert_int_equal(mc_store_begin_run(s, &info, id, &err), MC_OK);
    enum { BATCH = 500 };
    static mc_result_row rows[BATCH];
    static mc_result res[BATCH];
    static mc_timing tim[BATCH];
    static double samples[BATCH][16];
    static char keys[BATCH][64], params[BATCH][96];
    int n = 0;
    for (int c = 0; c < n_cases; c++) {
        for (int v = 0; v < 2; v++) {
            const char *op = ops[c % 4];
            static char vname[4][2][32];
            snprintf(vname[c % 4][v], sizeof vname[0][0], "%s_variant_%d", op, v);
            const char *dtype = c % 3 ? "f32" : "f16";
            int m = 1 + c / 4 % 100, k = 1 + c / 400, align = (c % 5) * 2;
            snprintf(keys[n], sizeof keys[n], "%s(dtype=%s,m=%d,k=%d,align=%d)", op, dtype, m, k, align);
            snprintf(params[n], sizeof params[n], "{\"dtype\":\"%s\",\"m\":%d,\"k\":%d,\"align\":%d}", dtype, m, k,
                     align);
            memset(&res[n], 0, sizeof res[n]);
            res[n].kind = (c * 7 + run) % 997 == 0 ? MC_RESULT_FAIL_BOUND : MC_RESULT_PASS;
            res[n].worst_index = -1;
            rows[n] = (mc_result_row){.case_key = keys[n], .op_name = op, .params_json = params[n], .backend = "cpu",
                                      .variant_name = vname[c % 4][v],
                                      .code_hash = v == 1 && run >= 50 ? "1111111111111111" : "2222222222222222",
                                      .res = &res[n]};
            if (c / 4 % 10 == 0) { /* one in ten cases of every op */
                double t = 1000.0 * (1 + c % 97) * (v == 1 && run >= 50 ? 1.1 : 1.0);
                for (int j = 0; j < 16; j++)
                    samples[n][j] = t * (1 + 0.001 * ((j * 7 + run) % 11));
                memset(&tim[n], 0, sizeof tim[n]);
                tim[n].n = 16;
                tim[n].samples_ns = samples[n];
                assert_int_equal(mc_timing_finish(&tim[n], 0.95, NULL), MC_OK);
                mc_timing_set_rates(&tim[n], 1e6 * (1 + c % 7), 1e5 * (1 + c % 5));
                rows[n].timing = &tim[n];
            }
            if (++n == BATCH) {
                assert_int_equal(mc_store_add_results(s, *id, rows, n, &err), MC_OK);
                n = 0;
            }
        }
    }
    if (n)
        assert_int_equal(mc_store_add_results(s, *id, rows, n, &err), MC_OK);
    assert_int_equal(mc_store_end_run(s, *id, "passed", &err), MC_OK);
}

static void test_report_scale(void **state)
{
    (void)state;
    if (!getenv("MC_REPORT_SCALE"))
        skip();
    int runs = env_int("MC_REPORT_SCALE_RUNS", 100), cases = env_int("MC_REPORT_SCALE_CASES", 10000);
    char path[160], out[160];
    snprintf(path, sizeof path, "%s/scale.db", tmpdir);
    const char *keep = getenv("MC_REPORT_SCALE_OUT"); /* to look at the page */
    snprintf(out, sizeof out, "%s", keep && *keep ? keep : "");
    if (!out[0])
        snprintf(out, sizeof out, "%s/scale.html", tmpdir);
    mc_store *s = NULL;
    mc_err err = {0};
    assert_int_equal(mc_store_open(path, &s, &err), MC_OK);
    double t0 = now_s();
    int64_t base = 0, cand = 0;
    for (int r = 0; r < runs; r++) {
        base = cand;
        scale_run(s, r, cases, &cand);
    }
    double built = now_s() - t0;
    mc_report_opts o = {.cand_run = cand, .base_run = base, .out_path = out};
    mc_report_stats st;
    assert_int_equal(mc_report_write_opts(s, &o, &st, &err), MC_OK);
    mc_store_close(s);
    printf("scale: %d runs x %d cases (x 2 variants, 1 in 10 timed) built in %.1f s; report in %.2f s, %.1f KiB, "
           "%d results, %d compared, %d history charts over %d commits\n",
           runs, cases, built, st.seconds, st.bytes / 1024.0, st.n_results, st.n_compared, st.n_history_series,
           st.n_history_commits);
    assert_int_equal(st.n_results, 2 * cases);
    assert_int_equal(st.n_history_commits, runs);
}

/* ---- the roofline holds a case to the roof its perf row was held to (issue 18 item 1) ---- */

/* A softmax case of 1 MB (copy-bound) and a gemv case of 1 MB (read-bound), 10 GB/s each at 2
 * flop/byte; stored roofs: DRAM read 20, copy 15, and copy 12.5 GB/s measured at the softmax's
 * size. The softmax is at 80% of the roof at its size (10 / 12.5), not 50% of DRAM's read roof
 * (what the table said before it read roofs at sizes); the gemv, with no roof at its size, keeps
 * DRAM's read roof: 50%. */
static void test_report_roofline_size_roofs(void **state)
{
    (void)state;
    char path[160], out[160], name[64];
    mc_store *s = open_db("sizes.db", path, sizeof path);
    snprintf(out, sizeof out, "%s/sizes.html", tmpdir);
    mc_err err = {0};
    mc_run_info info;
    fill_machine(&info, 0);
    int64_t id = 0;
    assert_int_equal(mc_store_begin_run(s, &info, &id, &err), MC_OK);
    row_spec rows[] = {
        {"softmax(rows=4)", "softmax", "{\"rows\":4}", "softmax_a", "00000000000000aa", "pass", "", 1e5},
        {"gemv(m=4)", "gemv", "{\"m\":4}", "gemv_a", "00000000000000bb", "pass", "", 1e5},
    };
    store_rows(s, id, rows, 2);
    assert_int_equal(mc_store_end_run(s, id, "passed", &err), MC_OK);
    assert_int_equal(mc_store_set_machine_peak(s, &info.machine, "read_gbs", 20, "GB/s", &err), MC_OK);
    assert_int_equal(mc_store_set_machine_peak(s, &info.machine, "copy_gbs", 15, "GB/s", &err), MC_OK);
    mc_peaks_at_stored_name(mc_peaks_bucket(1e6), MC_TRAFFIC_COPY, name, sizeof name);
    assert_int_equal(mc_store_set_machine_peak(s, &info.machine, name, 12.5, "GB/s", &err), MC_OK);
    mc_report_opts o = {.cand_run = id, .out_path = out};
    mc_report_stats st;
    assert_int_equal(mc_report_write_opts(s, &o, &st, &err), MC_OK);
    mc_store_close(s);
    char *page = read_all(out);
    assert_non_null(page);
    const char *table = strstr(page, "id=\"roofline-table\"");
    assert_non_null(table);
    const char *softmax = strstr(table, "softmax_a"), *gemv = strstr(table, "gemv_a");
    assert_non_null(softmax);
    assert_non_null(gemv);
    const char *end = strstr(softmax, "</tr>");
    const char *share = strstr(softmax, "<td class=\"num\">80%</td>");
    if (!share || share > end)
        fail_msg("the softmax row is not at 80%% of the copy roof at its size: %.*s", (int)(end - softmax), softmax);
    end = strstr(gemv, "</tr>");
    share = strstr(gemv, "<td class=\"num\">50%</td>");
    if (!share || share > end)
        fail_msg("the gemv row is not at 50%% of DRAM's read roof: %.*s", (int)(end - gemv), gemv);
    free(page);
}

int main(void)
{
    const struct CMUnitTest units[] = {
        cmocka_unit_test(test_html_escape_table),     cmocka_unit_test(test_html_escape_never_cuts_an_entity),
        cmocka_unit_test(test_shell_quote),           cmocka_unit_test(test_formats),
        cmocka_unit_test(test_scales),                cmocka_unit_test(test_ticks),
        cmocka_unit_test(test_markers),               cmocka_unit_test(test_svg_text_is_escaped),
        cmocka_unit_test(test_ratio_interval),        cmocka_unit_test(test_series_breaks_at_nan),
        cmocka_unit_test(test_params_parse),          cmocka_unit_test(test_group_runs),
    };
    const struct CMUnitTest whole[] = {
        cmocka_unit_test(test_report_sections_in_order),   cmocka_unit_test(test_report_untrusted_text_stays_text),
        cmocka_unit_test(test_report_banner_and_failures), cmocka_unit_test(test_report_regression),
        cmocka_unit_test(test_report_history_and_sweep),   cmocka_unit_test(test_report_coverage_and_roofline),
        cmocka_unit_test(test_report_without_timings),
        cmocka_unit_test(test_report_roofline_size_roofs),
        cmocka_unit_test(test_report_regression_first),    cmocka_unit_test(test_report_history_median),
        cmocka_unit_test(test_report_merged_shards),       cmocka_unit_test(test_report_no_baseline_load_and_output),
        cmocka_unit_test(test_report_absent_data_degrades),
    };
    /* the scale benchmark is opt-in ($MC_REPORT_SCALE), not a test this machine cannot run: it is
     * not listed otherwise, so a default run is not reported as skipped (tests/unit_skip.sh) */
    const struct CMUnitTest scale[] = {cmocka_unit_test(test_report_scale)};
    int failed = cmocka_run_group_tests_name("report units", units, NULL, NULL);
    failed += cmocka_run_group_tests_name("whole report", whole, setup_report, teardown_report);
    if (getenv("MC_REPORT_SCALE"))
        failed += cmocka_run_group_tests_name("report at scale", scale, setup_report, teardown_report);
    return failed;
}
