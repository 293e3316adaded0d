/* cli/junit.h: a JUnit XML file of a command, for CI systems that show test results: one
 * <testsuites> holding one <testsuite> per stage (correctness, perf) of the command.
 * SPDX-License-Identifier: MIT */
#ifndef MC_JUNIT_H
#define MC_JUNIT_H

#include <stdint.h>
#include <stdio.h>

#include "engine/session.h"

/* The XML declaration and the opening <testsuites>. */
void mc_junit_begin(FILE *f);
/* One <testsuite> for a stage: the seed, commit and tool version as properties, one <testcase> per
 * (case, variant); failures carry the message and the reproducer, skips their reason. */
void mc_junit_suite(FILE *f, const mc_session *s, const char *stage, uint64_t seed, const char *commit);
/* The closing </testsuites>. */
void mc_junit_end(FILE *f);

#endif
