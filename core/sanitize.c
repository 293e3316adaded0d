/* core/sanitize.c: one walker over UTF-8 text and one rule per sink for what each character
 * becomes. Invalid bytes never pass: U+FFFD where the sink is Unicode text, \xNN on a terminal.
 * SPDX-License-Identifier: MIT */
#include "sanitize.h"

#include <assert.h>
#include <string.h>

#define REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD in UTF-8 */

int mc_utf8_decode(const unsigned char *p, uint32_t *cp)
{
    static const uint32_t min_of_len[5] = {0, 0, 0x80, 0x800, 0x10000}; /* shorter forms are overlong */
    unsigned char c = p[0];
    int len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (len == 0)
        return 0;
    uint32_t v = len == 1 ? c : (uint32_t)(c & (0x7F >> len));
    for (int i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80) /* also stops at the NUL of a cut sequence */
            return 0;
        v = (v << 6) | (p[i] & 0x3F);
    }
    if (v < min_of_len[len] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return len;
}

/* What one character becomes in a sink: a replacement written into rep (returns 1), or the
 * character's own bytes (returns 0). valid is false for a byte that is not UTF-8 (cp = the byte). */
typedef int (*sink_rule)(uint32_t cp, int valid, char rep[16]);

static int xml_rule(uint32_t cp, int valid, char rep[16])
{
    static const char *const named[128] = {['&'] = "&amp;", ['<'] = "&lt;", ['>'] = "&gt;", ['"'] = "&quot;",
                                           ['\''] = "&apos;", ['\t'] = "&#9;", ['\n'] = "&#10;", ['\r'] = "&#13;"};
    if (!valid || (cp < 0x20 && !named[cp]) || cp == 0xFFFE || cp == 0xFFFF || (cp >= 0x7F && cp < 0xA0)) {
        strcpy(rep, REPLACEMENT); /* XML 1.0 cannot write C0 at all, and discourages DEL and C1 */
        return 1;
    }
    if (cp < 128 && named[cp]) {
        strcpy(rep, named[cp]);
        return 1;
    }
    return 0;
}

static int json_rule(uint32_t cp, int valid, char rep[16])
{
    static const char *const named[128] = {['"'] = "\\\"", ['\\'] = "\\\\", ['\n'] = "\\n", ['\r'] = "\\r",
                                           ['\t'] = "\\t", ['\b'] = "\\b", ['\f'] = "\\f"};
    if (!valid) {
        strcpy(rep, "\\ufffd");
        return 1;
    }
    if (cp < 128 && named[cp]) {
        strcpy(rep, named[cp]);
        return 1;
    }
    if (cp < 0x20 || cp == 0x7F || cp == 0x2028 || cp == 0x2029) { /* the last two end lines in JavaScript */
        snprintf(rep, 16, "\\u%04x", (unsigned)cp);
        return 1;
    }
    return 0;
}

static int html_rule(uint32_t cp, int valid, char rep[16])
{
    static const char *const named[128] = {['&'] = "&amp;", ['<'] = "&lt;", ['>'] = "&gt;", ['"'] = "&quot;",
                                           ['\''] = "&#39;"};
    if (cp < 128 && valid && named[cp]) {
        strcpy(rep, named[cp]);
        return 1;
    }
    if (!valid || (cp < 0x20 && cp != '\t' && cp != '\n') || (cp >= 0x7F && cp < 0xA0)) {
        strcpy(rep, "&#xFFFD;"); /* HTML forbids controls; they could also hide text */
        return 1;
    }
    return 0;
}

static int term_rule(uint32_t cp, int valid, char rep[16])
{
    static const char *const named[128] = {['\n'] = "\\n", ['\r'] = "\\r", ['\t'] = "\\t", [0x1B] = "\\e"};
    if (!valid) {
        snprintf(rep, 16, "\\x%02x", (unsigned)cp);
        return 1;
    }
    if (cp < 128 && named[cp]) {
        strcpy(rep, named[cp]);
        return 1;
    }
    if (cp < 0x20 || cp == 0x7F) {
        snprintf(rep, 16, "\\x%02x", (unsigned)cp);
        return 1;
    }
    if (cp >= 0x80 && cp < 0xA0) { /* C1: 0x9B is CSI on some terminals */
        snprintf(rep, 16, "\\u%04x", (unsigned)cp);
        return 1;
    }
    return 0;
}

static const sink_rule rules[] = {
    [MC_SINK_XML] = xml_rule,
    [MC_SINK_JSON] = json_rule,
    [MC_SINK_HTML] = html_rule,
    [MC_SINK_TERM] = term_rule,
};
static_assert(sizeof rules / sizeof rules[0] == MC_SINK_COUNT, "one rule per sink");

typedef struct sink_out {
    char *dst;
    size_t cap, len;
    int cut;
    FILE *f;
} sink_out;

static void put(sink_out *o, const char *piece, size_t n)
{
    if (o->f) {
        fwrite(piece, 1, n, o->f);
        return;
    }
    if (!o->cut && o->len + n < o->cap) {
        memcpy(o->dst + o->len, piece, n);
        o->dst[o->len + n] = '\0';
    } else {
        o->cut = 1;
    }
    o->len += n;
}

static void walk(mc_sink sink, sink_out *o, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    while (*p) {
        uint32_t cp;
        char rep[16];
        int len = mc_utf8_decode(p, &cp);
        int valid = len > 0;
        if (!valid) {
            cp = *p;
            len = 1;
        }
        if (rules[sink](cp, valid, rep))
            put(o, rep, strlen(rep));
        else
            put(o, (const char *)p, (size_t)len);
        p += len;
    }
}

size_t mc_sanitize(mc_sink sink, char *dst, size_t cap, const char *s)
{
    sink_out o = {.dst = dst, .cap = cap};
    if (cap)
        dst[0] = '\0';
    walk(sink, &o, s);
    return o.len;
}

void mc_sanitize_write(mc_sink sink, FILE *out, const char *s)
{
    sink_out o = {.f = out};
    walk(sink, &o, s);
}
