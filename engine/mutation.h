/* engine/mutation.h: the planted-bug score of a session: a mutant is caught when at least one of
 * its results has the failure kind it declares (its .expect).
 * SPDX-License-Identifier: MIT */
#ifndef MC_MUTATION_H
#define MC_MUTATION_H

#include <stdio.h>

#include "session.h"

/* Counts the session's mutants (selected, runnable or not) and those caught as they should be.
 * Prints one line per mutant to out (NULL: none) and the stable line "mutation score: N/M caught". */
void mc_mutation_score(const mc_session *s, FILE *out, int *caught, int *total);

#endif
