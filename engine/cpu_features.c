/* engine/cpu_features.c: reads the "flags" line of /proc/cpuinfo once.
 * SPDX-License-Identifier: MIT */
#include "cpu_features.h"

#include <stdio.h>
#include <string.h>

static char flags[4096];
static int loaded;

static void load_flags(void)
{
    if (loaded)
        return;
    loaded = 1;
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[4096];
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, "flags", 5) == 0) {
            const char *colon = strchr(line, ':');
            snprintf(flags, sizeof flags, " %s", colon ? colon + 1 : "");
            flags[strcspn(flags, "\n")] = ' ';
            break;
        }
    }
    if (f)
        fclose(f);
}

static bool has_flag(const char *name, size_t len)
{
    char word[64];
    if (len + 3 > sizeof word)
        return false;
    snprintf(word, sizeof word, " %.*s ", (int)len, name);
    return strstr(flags, word) != NULL;
}

bool mc_cpu_has_all(const char *list, char *missing, size_t missing_len)
{
    load_flags();
    for (const char *p = list; p && *p;) {
        size_t len = strcspn(p, ",");
        if (len && !has_flag(p, len)) {
            snprintf(missing, missing_len, "%.*s", (int)len, p);
            return false;
        }
        p += len + (p[len] == ',');
    }
    return true;
}
