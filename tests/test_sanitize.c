/* tests/test_sanitize.c: untrusted text for each sink (core/sanitize.c).
 * Focus: for each sink, a table {input, expected}: markup and quotes escaped, control characters and
 * invalid UTF-8 never pass raw, valid UTF-8 passes untouched, buffers are cut only between pieces.
 * SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/sanitize.h"
#include "reports/html.h"

typedef struct row {
    mc_sink sink;
    const char *in, *want;
} row;

static const row rows[] = {
    /* XML: markup, quotes, whitespace as references; C0 and invalid bytes become U+FFFD */
    {MC_SINK_XML, "a<b>&\"'", "a&lt;b&gt;&amp;&quot;&apos;"},
    {MC_SINK_XML, "line1\nline2\ttab\r", "line1&#10;line2&#9;tab&#13;"},
    {MC_SINK_XML, "esc\x1b[31mred\x01", "esc\xEF\xBF\xBD[31mred\xEF\xBF\xBD"},
    {MC_SINK_XML, "bad\xff\xfe byte", "bad\xEF\xBF\xBD\xEF\xBF\xBD byte"},
    {MC_SINK_XML, "\xEF\xBF\xBF", "\xEF\xBF\xBD"},                   /* U+FFFF is not an XML character */
    {MC_SINK_XML, "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"},
    /* JSON: quotes and backslashes, short escapes, \u00XX for the rest, \ufffd for invalid bytes */
    {MC_SINK_JSON, "say \"hi\" \\ now", "say \\\"hi\\\" \\\\ now"},
    {MC_SINK_JSON, "a\nb\rc\td\be\ff", "a\\nb\\rc\\td\\be\\ff"},
    {MC_SINK_JSON, "\x1b[2J\x7f", "\\u001b[2J\\u007f"},
    {MC_SINK_JSON, "\xC0\xAF overlong", "\\ufffd\\ufffd overlong"},
    {MC_SINK_JSON, "\xED\xA0\x80", "\\ufffd\\ufffd\\ufffd"},           /* a UTF-16 surrogate */
    {MC_SINK_JSON, "cut \xE2\x82", "cut \\ufffd\\ufffd"},
    {MC_SINK_JSON, "sep\xE2\x80\xA8", "sep\\u2028"},
    {MC_SINK_JSON, "\xC3\xA9", "\xC3\xA9"},
    /* HTML: entities; tab and newline kept; C0, DEL, C1 and invalid bytes become U+FFFD */
    {MC_SINK_HTML, "<script>alert('x')</script>", "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"},
    {MC_SINK_HTML, "a\tb\nc\x1b\x7f", "a\tb\nc&#xFFFD;&#xFFFD;"},
    {MC_SINK_HTML, "\xC2\x9B" "31m", "&#xFFFD;31m"},
    {MC_SINK_HTML, "\xff", "&#xFFFD;"},
    /* terminal: no raw ESC, CR, LF, other controls or C1; invalid bytes shown as \xNN */
    {MC_SINK_TERM, "ok\nFAIL forged\r\x1b[2K", "ok\\nFAIL forged\\r\\e[2K"},
    {MC_SINK_TERM, "bell\x07 del\x7f", "bell\\x07 del\\x7f"},
    {MC_SINK_TERM, "csi\xC2\x9B" "2J", "csi\\u009b2J"},
    {MC_SINK_TERM, "bad\xff", "bad\\xff"},
    {MC_SINK_TERM, "gemm(dtype=f16,m=5) \xE2\x89\xA4 bound", "gemm(dtype=f16,m=5) \xE2\x89\xA4 bound"},
};

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char out[256];
        size_t n = mc_sanitize(rows[i].sink, out, sizeof out, rows[i].in);
        if (strcmp(out, rows[i].want) != 0)
            fail_msg("row %zu: sink %d: got '%s', want '%s'", i, (int)rows[i].sink, out, rows[i].want);
        assert_int_equal(n, strlen(rows[i].want));
    }
}

/* The stream writer gives the same bytes as the buffer writer. */
static void test_stream_matches_buffer(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char buf[256], stream[256] = {0};
        mc_sanitize(rows[i].sink, buf, sizeof buf, rows[i].in);
        FILE *f = fmemopen(stream, sizeof stream, "w");
        assert_non_null(f);
        mc_sanitize_write(rows[i].sink, f, rows[i].in);
        fclose(f);
        assert_string_equal(stream, buf);
    }
}

/* Every byte value alone, in every sink: the output is valid UTF-8 with no control byte, except
 * tab and newline in HTML text. */
static void test_every_byte_is_safe(void **state)
{
    (void)state;
    for (int sink = 0; sink < MC_SINK_COUNT; sink++)
        for (int b = 1; b < 256; b++) {
            char in[2] = {(char)b, 0}, out[32];
            mc_sanitize((mc_sink)sink, out, sizeof out, in);
            for (const unsigned char *p = (const unsigned char *)out; *p;) {
                uint32_t cp;
                int len = mc_utf8_decode(p, &cp);
                if (len == 0)
                    fail_msg("sink %d byte 0x%02x: invalid UTF-8 out: '%s'", sink, b, out);
                bool control = cp < 0x20 || (cp >= 0x7F && cp < 0xA0);
                if (control && !(sink == MC_SINK_HTML && (cp == '\t' || cp == '\n')))
                    fail_msg("sink %d byte 0x%02x: control U+%04X passed raw", sink, b, (unsigned)cp);
                p += len;
            }
        }
}

/* A short buffer holds whole pieces only, and the return value says how much was needed. */
static void test_cut_between_pieces(void **state)
{
    (void)state;
    char out[6];
    size_t need = mc_sanitize(MC_SINK_XML, out, sizeof out, "ab<cd");
    assert_int_equal(need, strlen("ab&lt;cd"));
    assert_string_equal(out, "ab"); /* "&lt;" does not fit after "ab" in 5 bytes + NUL */
    assert_int_equal(mc_sanitize(MC_SINK_JSON, out, sizeof out, NULL), 0);
    assert_string_equal(out, "");
}

/* The report's escaping is the HTML sink: invalid UTF-8 and C1 controls no longer pass through. */
static void test_report_html_uses_the_sink(void **state)
{
    (void)state;
    char out[64];
    mc_html_escape(out, sizeof out, "k\xff\xC2\x9B<");
    assert_string_equal(out, "k&#xFFFD;&#xFFFD;&lt;");
}

static void test_decode(void **state)
{
    (void)state;
    uint32_t cp = 0;
    assert_int_equal(mc_utf8_decode((const unsigned char *)"\xF4\x8F\xBF\xBF", &cp), 4);
    assert_int_equal(cp, 0x10FFFF);
    assert_int_equal(mc_utf8_decode((const unsigned char *)"\xF4\x90\x80\x80", &cp), 0); /* past U+10FFFF */
    assert_int_equal(mc_utf8_decode((const unsigned char *)"\xE0\x80\xAF", &cp), 0);     /* overlong */
    assert_int_equal(mc_utf8_decode((const unsigned char *)"\x80", &cp), 0);             /* lone continuation */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_stream_matches_buffer),
        cmocka_unit_test(test_every_byte_is_safe),
        cmocka_unit_test(test_cut_between_pieces),
        cmocka_unit_test(test_report_html_uses_the_sink),
        cmocka_unit_test(test_decode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
