/* engine/cases_lua.h: loads sandboxed Lua case files (tiers and suites) into case lists.
 * SPDX-License-Identifier: MIT */
#ifndef MC_CASES_LUA_H
#define MC_CASES_LUA_H

#include <stddef.h>

#include "core/case.h"
#include "core/status.h"

struct mc_op;

/* The most combinations one suite may expand to before its `where` filter: a guard against a
 * runaway cross product, not a tuning knob. */
#define MC_SUITE_MAX_COMBINATIONS 200000

/* Loads one case file (sandboxed) and appends its cases, in file order, to out. lib_dir is the
 * folder `require "name"` reads name.lua from; NULL means <dir of path>/lib. `include "tier"`
 * reads <dir of path>/tier.lua. On error nothing is appended and err says file:line: what. */
mc_status mc_cases_load_file(const char *path, const char *lib_dir, mc_case_list *out, mc_err *err);

/* Looks an op up by name (mc_op_find is the one the tool uses). */
typedef const struct mc_op *(*mc_op_finder)(const char *name);

/* As mc_cases_load_file, with ops found through find_op and a wall-clock limit of wall_limit_s
 * (0: MC_CASES_WALL_LIMIT_S): tests use it to load suites of ops that only they define, and to
 * keep the deadline out of the way of the limit they test (a loaded machine is slow). */
mc_status mc_cases_load_file_with_ops(const char *path, const char *lib_dir, mc_op_finder find_op,
                                      double wall_limit_s, mc_case_list *out, mc_err *err);

/* Finds the cases folder: explicit_dir if non-NULL, else $MC_CASES_DIR, else the first of
 * <dir of the running executable>/../cases, <dir of exe>/cases and MC_SOURCE_DIR/cases that holds
 * quick.lua. out receives the folder's path. */
mc_status mc_cases_dir(const char *explicit_dir, char *out, size_t out_len, mc_err *err);

/* Loads tier quick|precommit|nightly|perf from <cases_dir>/<tier>.lua, with <cases_dir>/lib as the
 * library folder; cases_dir NULL means mc_cases_dir(NULL). An unknown tier is MC_ERR_USAGE. */
mc_status mc_cases_load_tier(const char *tier, const char *cases_dir, mc_case_list *out, mc_err *err);

#endif
