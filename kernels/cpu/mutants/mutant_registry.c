/* kernels/cpu/mutants/mutant_registry.c: the planted-bug (mutant) variant table, built with -DMC_MUTANTS=ON only.
 * SPDX-License-Identifier: MIT
 *
 * One row per mutant, grouped by op. Each mutant's .expect names the failure kind that must catch
 * it; tests/cli_mutants.sh runs the quick tier against every row and scores the result, and
 * docs/mutants.md lists what each one plants and which check catches it.
 */
#include <stddef.h>

#include "core/backend.h"
#include "core/variant.h"

extern const mc_variant mc_mutant_gemm_tile_topleft;
extern const mc_variant mc_mutant_gemm_last_row_skipped;
extern const mc_variant mc_mutant_gemm_every_other_column;
extern const mc_variant mc_mutant_gemm_early_return;
extern const mc_variant mc_mutant_gemm_batch_ignored;
extern const mc_variant mc_mutant_gemm_transpose_ignored;
extern const mc_variant mc_mutant_gemm_stride_ignored;
extern const mc_variant mc_mutant_gemm_write_past_end;
extern const mc_variant mc_mutant_gemm_beta_dropped;
extern const mc_variant mc_mutant_gemm_bias_dropped;
extern const mc_variant mc_mutant_gemm_dispatch_fallback;
extern const mc_variant mc_mutant_gemm_dispatch_gate;
extern const mc_variant mc_mutant_gemv_probe_never;
extern const mc_variant mc_mutant_gemv_aligned_load;
extern const mc_variant mc_mutant_gemv_tail_skipped;
extern const mc_variant mc_mutant_gemv_gap_read;
extern const mc_variant mc_mutant_gemv_f16_accumulation;
extern const mc_variant mc_mutant_gemv_race;
extern const mc_variant mc_mutant_gemv_l1_block;
extern const mc_variant mc_mutant_gemv_q4_0_nibbles_swapped;
extern const mc_variant mc_mutant_gemv_q8_0_ties_even;
extern const mc_variant mc_mutant_softmax_no_max;
extern const mc_variant mc_mutant_softmax_online_overflow;
extern const mc_variant mc_mutant_softmax_segments;
extern const mc_variant mc_mutant_softmax_writes_input;
extern const mc_variant mc_mutant_softmax_declines_all;
extern const mc_variant mc_mutant_sdpa_causal_off_by_one;
extern const mc_variant mc_mutant_sdpa_gqa_round_robin;
extern const mc_variant mc_mutant_gemv_q8_0_vnni_unsigned;
extern const mc_variant mc_mutant_gemm_bf16_odd_k_dropped;
extern const mc_variant mc_mutant_gemm_amx_short_chunk_skipped;

const mc_variant *const mc_mutant_variants[] = {
    &mc_mutant_gemm_tile_topleft,
    &mc_mutant_gemm_last_row_skipped,
    &mc_mutant_gemm_every_other_column,
    &mc_mutant_gemm_early_return,
    &mc_mutant_gemm_batch_ignored,
    &mc_mutant_gemm_transpose_ignored,
    &mc_mutant_gemm_stride_ignored,
    &mc_mutant_gemm_write_past_end,
    &mc_mutant_gemm_beta_dropped,
    &mc_mutant_gemm_bias_dropped,
    &mc_mutant_gemm_dispatch_fallback,
    &mc_mutant_gemm_dispatch_gate,
    &mc_mutant_gemv_probe_never,
    &mc_mutant_gemv_aligned_load,
    &mc_mutant_gemv_tail_skipped,
    &mc_mutant_gemv_gap_read,
    &mc_mutant_gemv_f16_accumulation,
    &mc_mutant_gemv_race,
    &mc_mutant_gemv_l1_block,
    &mc_mutant_gemv_q4_0_nibbles_swapped,
    &mc_mutant_gemv_q8_0_ties_even,
    &mc_mutant_softmax_no_max,
    &mc_mutant_softmax_online_overflow,
    &mc_mutant_softmax_segments,
    &mc_mutant_softmax_writes_input,
    &mc_mutant_softmax_declines_all,
    &mc_mutant_sdpa_causal_off_by_one,
    &mc_mutant_sdpa_gqa_round_robin,
    &mc_mutant_gemv_q8_0_vnni_unsigned,
    &mc_mutant_gemm_bf16_odd_k_dropped,
    &mc_mutant_gemm_amx_short_chunk_skipped,
    NULL,
};

/* The mutants' (hidden) row (core/backend.h): listed in mc_backend_rows[] by CMakeLists.txt's MC_BACKENDS. */
extern const mc_backend mc_backend_cpu;
const mc_backend_row mc_backend_row_cpu_mutants = {
    .name = "cpu", .backend = &mc_backend_cpu, .variants = mc_mutant_variants, .hidden = true,
};
