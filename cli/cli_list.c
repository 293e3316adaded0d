/* cli/cli_list.c: `metallic-check list ops|variants|backends|cases`.
 * SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "core/sanitize.h"
#include "core/op.h"
#include "engine/plugin.h"
#include "engine/registry.h"

static const char list_usage[] =
    "usage: metallic-check list ops|variants|backends|cases [--tier NAME | --cases FILE] [--include-hidden]\n"
    "                           [--plugin PATH]...\n"
    "  ops        every op with its parameters and defaults\n"
    "  variants   every compiled variant with its backend and what its capability probe says here\n"
    "  backends   every backend, available or not, with its device or the reason\n"
    "  cases      the canonical keys of a tier's cases, in run order (filters of `run` apply)\n";

static int list_ops(void)
{
    for (int i = 0; i < MC_OP_COUNT; i++) {
        const mc_op *op = mc_op_get((mc_op_id)i);
        printf("%s: %s\n", op->name, op->doc ? op->doc : "");
        for (int p = 0; p < op->n_params; p++)
            printf("  %-10s default %-12s %s\n", op->params[p].name, op->params[p].def,
                   op->params[p].doc ? op->params[p].doc : "");
    }
    return MC_EXIT_OK;
}

static const char *variant_kind(const mc_variant *v)
{
    if (v->flags & MC_VARIANT_MUTANT)
        return " [mutant]";
    if (v->flags & MC_VARIANT_TEST_ONLY)
        return " [test-only]";
    if (v->flags & MC_VARIANT_DISPATCHER)
        return " [dispatcher]";
    return "";
}

/* Ends a line: " [plugin PATH]" for what a plugin brings. */
static void print_plugin(const char *path)
{
    if (path) {
        fputs(" [plugin ", stdout);
        mc_sanitize_write(MC_SINK_TERM, stdout, path);
        fputc(']', stdout);
    }
    fputc('\n', stdout);
}

/* The --plugin options of `list variants|backends` (other words are left to the lists, as before),
 * then $MC_PLUGINS: -1 when loaded, else the exit status. */
static int load_list_plugins(int argc, char **argv)
{
    const char *paths[MC_PLUGIN_MAX];
    int n = 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--plugin") != 0)
            continue;
        if (i + 1 >= argc || n == MC_PLUGIN_MAX) {
            fprintf(stderr, "metallic-check list: --plugin needs a path (at most %d)\n%s", MC_PLUGIN_MAX, list_usage);
            return MC_EXIT_USAGE;
        }
        paths[n++] = argv[++i];
    }
    return mc_cli_load_plugins("list", paths, n);
}

static int list_variants(bool hidden)
{
    int n;
    const mc_variant *const *all = mc_registry_variants(hidden, &n);
    mc_probe_report pr;
    mc_err err = {0};
    if (mc_probe_collect(all, n, &pr, &err))
        return mc_cli_report_error("list", &err);
    for (int i = 0; i < n; i++) { /* a plugin's names and reasons are untrusted text */
        char name[256], reason[1024];
        mc_sanitize(MC_SINK_TERM, name, sizeof name, all[i]->name);
        mc_sanitize(MC_SINK_TERM, reason, sizeof reason, pr.reason[i]);
        printf("%-34s %-8s %-8s %s%s", name, mc_op_get(all[i]->op)->name, all[i]->backend,
               reason[0] ? "unavailable: " : "runs here", reason[0] ? reason : variant_kind(all[i]));
        print_plugin(mc_plugin_path_of(all[i]));
    }
    mc_probe_free(&pr);
    return MC_EXIT_OK;
}

static int list_backends(void)
{
    mc_probe_report pr;
    mc_err err = {0};
    if (mc_probe_collect(NULL, 0, &pr, &err))
        return mc_cli_report_error("list", &err);
    for (int i = 0; i < pr.n_backends; i++) {
        char info[1024]; /* a driver's or a plugin's words */
        mc_sanitize(MC_SINK_TERM, info, sizeof info, pr.backends[i].info);
        printf("%-8s %s: %s", pr.backends[i].name, pr.backends[i].available ? "available" : "unavailable", info);
        print_plugin(mc_plugin_backend_path(pr.backends[i].name));
    }
    mc_probe_free(&pr);
    return MC_EXIT_OK;
}

static int list_cases(int argc, char **argv)
{
    mc_run_options o;
    int pos;
    int rc = mc_cli_parse_run_options("list cases", list_usage, argc, argv, &o, &pos);
    if (rc < 0)
        rc = mc_cli_load_plugins("list", o.plugins, o.n_plugins);
    if (rc >= 0)
        return rc;
    mc_session s;
    mc_err err = {0};
    memset(&s, 0, sizeof s);
    mc_status st = mc_session_prepare(&o.session, &s, &err);
    if (st) {
        mc_session_free(&s);
        return mc_cli_report_error("list", &err);
    }
    for (int i = 0; i < s.cases.count; i++)
        printf("%s\n", s.cases.items[i].key);
    fprintf(stderr, "%d cases (%d duplicate keys dropped)\n", s.cases.count, s.cases.duplicates);
    mc_session_free(&s);
    return MC_EXIT_OK;
}

int mc_cli_list(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        fputs(list_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? MC_EXIT_USAGE : MC_EXIT_OK;
    }
    bool hidden = false;
    for (int i = 2; i < argc; i++)
        hidden = hidden || strcmp(argv[i], "--include-hidden") == 0;
    int rc = strcmp(argv[1], "variants") == 0 || strcmp(argv[1], "backends") == 0 ? load_list_plugins(argc, argv) : -1;
    if (rc >= 0)
        return rc;
    if (strcmp(argv[1], "ops") == 0)
        return list_ops();
    if (strcmp(argv[1], "variants") == 0)
        return list_variants(hidden);
    if (strcmp(argv[1], "backends") == 0)
        return list_backends();
    if (strcmp(argv[1], "cases") == 0)
        return list_cases(argc - 1, argv + 1);
    return mc_cli_usage_error("list", list_usage, MC_USAGE_FULL, "unknown list '%s'", argv[1]);
}
