/* core/status.h: status codes and the one error record every fallible call fills.
 * SPDX-License-Identifier: MIT */
#ifndef MC_STATUS_H
#define MC_STATUS_H

typedef enum mc_status {
    MC_OK = 0,
    MC_ERR_USAGE,       /* bad command line */
    MC_ERR_CONFIG,      /* unknown backend/op/variant, bad parameter value */
    MC_ERR_LUA,         /* a case file failed to load or evaluate */
    MC_ERR_IO,          /* a file could not be read or written */
    MC_ERR_NOMEM,       /* an allocation failed */
    MC_ERR_BACKEND,     /* a device call failed */
    MC_ERR_DB,          /* the results store failed */
    MC_ERR_UNSUPPORTED, /* a combination nothing implements */
    MC_ERR_INTERNAL,    /* a broken invariant inside metallic-check */
    MC_STATUS_COUNT
} mc_status;

/* The detail behind a status: lower layers fill it through mc_err_set and never print. */
typedef struct mc_err {
    mc_status status;
    char msg[768];
    const char *file; /* source file that recorded the error */
    int line;         /* its line */
} mc_err;

/* Records status and a printf-style message; returns the status so callers can `return mc_err_set(...)`. */
mc_status mc_err_set_at(mc_err *err, mc_status st, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
#define mc_err_set(err, st, ...) mc_err_set_at((err), (st), __FILE__, __LINE__, __VA_ARGS__)

/* Clears an error record back to MC_OK. */
void mc_err_clear(mc_err *err);

/* One-word name of a status ("ok", "usage", ...). */
const char *mc_status_str(mc_status st);

#endif
