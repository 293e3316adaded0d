/* harness/junit.h: a JUnit XML file of a session, for CI systems that show test results.
 * SPDX-License-Identifier: MIT */
#ifndef MC_JUNIT_H
#define MC_JUNIT_H

#include "session.h"

/* Writes one <testcase> per (case, variant); failures carry the message, skips their reason. */
mc_status mc_junit_write(const char *path, const mc_session *s, mc_err *err);

#endif
