/* cli/main.c: the metallic-check command line: one table of commands.
 * SPDX-License-Identifier: MIT */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_compare.h"
#include "cli_db.h"
#include "cli_quant.h"
#include "cli_report.h"
#include "cli_tune.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"run", mc_cli_run, "run kernel variants against the reference (a tier or case files)"},
    {"check", mc_cli_check, "the per-commit job: precommit tier + perf subset, compare with the parent, report"},
    {"repro", mc_cli_repro, "re-run one case by its key, with the same inputs"},
    {"list", mc_cli_list, "list ops, variants, backends or cases"},
    {"quantize", mc_cli_quantize, "raw little-endian f32 -> GGUF Q8_0/Q4_0 blocks"},
    {"dequantize", mc_cli_dequantize, "GGUF Q8_0/Q4_0 blocks -> raw little-endian f32"},
    {"report", mc_cli_report, "write the HTML report of a run (failures, regressions, history, coverage)"},
    {"compare", mc_cli_compare, "regression verdicts between two stored runs or commits"},
    {"merge", mc_cli_merge, "join shard databases without duplicates"},
    {"db", mc_cli_db, "database upkeep: integrity check, paired A/B import (scripts/ab-compare)"},
    {"tune", mc_cli_tune, "sweep GEMM tile configurations and write the dispatcher's table"},
    {NULL, NULL, NULL},
};

static void usage(FILE *out)
{
    fputs("usage: metallic-check COMMAND [options]   (metallic-check COMMAND --help for each)\n\n", out);
    for (const command *c = commands; c->name; c++)
        fprintf(out, "  %-10s %s\n", c->name, c->summary);
    fputs("\nExit status: 0 all passed; 1 a failure, crash or timeout; 2 usage or configuration error;\n"
          "3 performance regression; 4 nothing ran.\n",
          out);
}

int main(int argc, char **argv)
{
    /* past a file-size limit (ulimit -f) a write must fail with EFBIG and be reported, not kill us */
    signal(SIGXFSZ, SIG_IGN);
    if (argc < 2) {
        usage(stderr);
        return MC_EXIT_USAGE;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return MC_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("metallic-check %s\n", MC_VERSION);
        return MC_EXIT_OK;
    }
    for (const command *c = commands; c->name; c++)
        if (strcmp(argv[1], c->name) == 0)
            return c->run(argc - 1, argv + 1);
    fprintf(stderr, "metallic-check: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return MC_EXIT_USAGE;
}
