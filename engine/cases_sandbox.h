/* engine/cases_sandbox.h: the private Lua state a case file runs in: its limits and its library.
 * SPDX-License-Identifier: MIT */
#ifndef MC_CASES_SANDBOX_H
#define MC_CASES_SANDBOX_H

#include <lauxlib.h>
#include <lua.h>
#include <stddef.h>
#include <time.h>

/* A case file's wall-clock budget, from the start of its load (includes and requires too). The
 * real tiers load in well under a second; past this, the load stops within one bounded library
 * call (docs/cases.md says how long at most). */
#define MC_CASES_WALL_LIMIT_S 10

/* The limits of one load. Once one is crossed the load is doomed: the instruction hook raises the
 * limit's error at its next call, and the sandbox's pcall re-raises it, so no case file can catch
 * it and go on. */
typedef enum mc_sandbox_limit {
    MC_SANDBOX_OK,           /* no limit crossed */
    MC_SANDBOX_INSTRUCTIONS, /* the instruction budget */
    MC_SANDBOX_WALL,         /* the wall-clock deadline */
    MC_SANDBOX_MEMORY,       /* the Lua heap cap or the largest block */
    MC_SANDBOX_CASES,        /* the case list's cap (raised by the loader) */
    MC_SANDBOX_LIMIT_COUNT
} mc_sandbox_limit;

typedef struct mc_sandbox {
    void *user;               /* the loader that owns this state */
    size_t memory_bytes;      /* held by the Lua state */
    size_t refused_bytes;     /* the last block the allocator refused, 0 if none */
    int refused_for_size;     /* that block alone was over the largest block */
    long hook_calls;          /* one per MC_SANDBOX_HOOK_EVERY instructions */
    unsigned ticks;           /* calls of mc_sandbox_tick, for its clock sampling */
    struct timespec deadline; /* CLOCK_MONOTONIC */
    double wall_limit_s;      /* what the deadline is, for the message */
    mc_sandbox_limit limit;   /* the first limit crossed */
    char limit_msg[600];      /* its message, "file:line: what" where a position is known */
} mc_sandbox;

/* Makes the private state: sb's capped allocator, sb reachable through mc_sandbox_of, the clock
 * started with wall_limit_s to go. NULL when even that fails. */
lua_State *mc_sandbox_open(mc_sandbox *sb, void *user, double wall_limit_s);

/* Inside the protected call: opens the safe libraries, replaces the unbounded functions (patterns
 * go, pcall re-raises limits, rep/move/sort are bounded) and starts the instruction hook. */
void mc_sandbox_install(lua_State *L);

/* Pushes a fresh environment table for one file: the safe functions and copies of the safe
 * libraries, plus extra (a NULL-ended list of the case-file functions). */
void mc_sandbox_push_env(lua_State *L, const luaL_Reg *extra);

mc_sandbox *mc_sandbox_of(lua_State *L);

/* For C loops that run Lua-visible work (suite expansion): raises once a limit is crossed or the
 * deadline has passed; cheap enough to call per item. */
void mc_sandbox_tick(lua_State *L);

/* Records limit `kind` with message msg (the first one recorded stays) and raises it. */
int mc_sandbox_trip(lua_State *L, mc_sandbox_limit kind, const char *msg);

/* After a lua_pcall made from C returned rc: a memory error becomes the memory limit, and any
 * crossed limit is raised again. Returns when the error was an ordinary one. */
void mc_sandbox_after_pcall(lua_State *L, int rc);

/* The message for a memory failure of the load of path, into out. */
void mc_sandbox_memory_message(const mc_sandbox *sb, const char *path, char *out, size_t out_len);

#endif
