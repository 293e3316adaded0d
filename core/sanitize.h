/* core/sanitize.h: untrusted text (case labels, suite names, kernel messages, captured output)
 * made safe for each place it is written: XML, JSON, HTML and the terminal.
 * SPDX-License-Identifier: MIT */
#ifndef MC_SANITIZE_H
#define MC_SANITIZE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum mc_sink {
    MC_SINK_XML,  /* text and attribute values: valid UTF-8, no character XML 1.0 forbids */
    MC_SINK_JSON, /* inside a JSON string (no quotes added): valid UTF-8, every control escaped */
    MC_SINK_HTML, /* text, quoted attributes, SVG text: entities, no control characters */
    MC_SINK_TERM, /* a terminal line: no ESC, CR, LF or other control byte; invalid bytes as \xNN */
    MC_SINK_COUNT
} mc_sink;

/* Decodes one UTF-8 sequence at p (NUL-terminated): returns its length (1..4) and the code point,
 * or 0 when the bytes are not valid UTF-8 (overlong, surrogate, past U+10FFFF, cut short). */
int mc_utf8_decode(const unsigned char *p, uint32_t *cp /* out */);

/* Writes s for the sink into dst, always NUL-terminated; returns the length the whole text needs
 * (snprintf's convention: >= cap means cut, never inside an escape or a UTF-8 sequence).
 * NULL is the empty string. */
size_t mc_sanitize(mc_sink sink, char *dst, size_t cap, const char *s);
/* The same, written to a stream. */
void mc_sanitize_write(mc_sink sink, FILE *out, const char *s);

#endif
