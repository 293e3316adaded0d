/* core/codehash.h: the identity of the code a variant runs: a hash of its machine code and the
 * build's flags, so that a timing change on byte-identical code reads as noise, not a regression.
 * SPDX-License-Identifier: MIT */
#ifndef MC_CODEHASH_H
#define MC_CODEHASH_H

#include <stdbool.h>
#include <stddef.h>

#include "variant.h"

#define MC_HASH_LEN 17 /* 16 hex digits and a NUL */
#define MC_HASH_UNHASHABLE "unhashable" /* the identity of code nothing could hash */

/* The one form of a code identity, on every backend: 16 lowercase hex digits. Host code gets it
 * from mc_variant_code_hash, device code from its backend's program_hash; anything else (a
 * prefix, a truncation, "unhashable", "") is not a real identity and never counts as same code. */
bool mc_code_hash_is_real(const char *hash);

/* The compile flags of this build: MC_C_FLAGS when CMake passes it (the real flags), else the
 * ones the predefined macros reveal. Part of every code hash and of the machine fingerprint. */
void mc_build_flags(char *out, size_t cap);

/* Hash of the code that runs for v: the machine code of its run function (v->code, else v->run)
 * and of every other function of the same source file (from the ELF symbol table of the binary
 * that holds it), plus the compile flags, plus the value of v->identity_env when that variable is
 * set (v->code_hash, when set, is the identity as is).
 * Addresses that move when unrelated code moves (calls, jumps and RIP-relative data
 * references leaving the function) are replaced by what they point to, so only a change of this
 * file's code or flags changes the hash. Writes 16 hex digits, or "unhashable" when the binary has
 * no symbol table (stripped) or the function is not in it. */
void mc_variant_code_hash(const mc_variant *v, char out[MC_HASH_LEN]);

#endif
