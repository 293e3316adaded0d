/* cli/cli_plugins.c: --plugin PATH (repeatable) and $MC_PLUGINS (a colon list): the plugins a
 * command loads before it selects anything (engine/plugin.h; docs/plugins.md).
 * SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "engine/plugin.h"

int mc_cli_add_plugin(const char *cmd, const char *path, mc_run_options *o)
{
    if (o->n_plugins == MC_PLUGIN_MAX) {
        fprintf(stderr, "metallic-check %s: at most %d --plugin libraries\n", cmd, MC_PLUGIN_MAX);
        return MC_EXIT_USAGE;
    }
    o->plugins[o->n_plugins++] = path;
    return -1;
}

int mc_cli_load_plugins(const char *cmd, const char *const *given, int n_given)
{
    static char env_copy[8192];
    const char *paths[2 * MC_PLUGIN_MAX];
    int n = 0;
    for (int i = 0; i < n_given && n < MC_PLUGIN_MAX; i++)
        paths[n++] = given[i];
    const char *env = getenv("MC_PLUGINS");
    if (env && strlen(env) >= sizeof env_copy) {
        fprintf(stderr, "metallic-check %s: MC_PLUGINS is longer than %zu characters\n", cmd, sizeof env_copy - 1);
        return MC_EXIT_USAGE;
    }
    snprintf(env_copy, sizeof env_copy, "%s", env ? env : "");
    char *save = NULL;
    for (char *p = strtok_r(env_copy, ":", &save); p; p = strtok_r(NULL, ":", &save)) {
        if (n == 2 * MC_PLUGIN_MAX) {
            fprintf(stderr, "metallic-check %s: MC_PLUGINS names more than %d plugins\n", cmd, MC_PLUGIN_MAX);
            return MC_EXIT_USAGE;
        }
        paths[n++] = p;
    }
    mc_err err = {0};
    if (n && mc_plugins_load(paths, n, MC_PLUGIN_INIT_TIMEOUT_S, &err) != MC_OK)
        return mc_cli_report_error(cmd, &err);
    return -1;
}
