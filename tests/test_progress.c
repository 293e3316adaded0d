/* tests/test_progress.c: the progress line (engine/progress.c).
 * Focus: the line fits the terminal whatever the counts (a wrapped line cannot be redrawn in
 * place), and the ETA weighs items by their cost: a tier that ends on its big cases is not "ETA 0s".
 * SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "engine/progress.h"

typedef struct fit_row {
    int done, total, failed;
    double elapsed_s;
    int columns;
} fit_row;

static const fit_row fit_rows[] = {
    {0, 49, 0, 0, 80},         {12, 49, 1, 3, 80},          {6000, 12000, 37, 95, 80},
    {99999, 99999, 99999, 7200, 80}, {5, 10, 0, 1, 40},       {5, 10, 0, 1, 20},
    {1234567, 2345678, 0, 100000, 60}, {3, 4, 0, 1, 200},
};

static void test_line_fits_the_terminal(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof fit_rows / sizeof fit_rows[0]; i++) {
        const fit_row *r = &fit_rows[i];
        mc_progress p;
        mc_progress_init(&p, stderr, r->total, "metallic-check", false);
        for (int k = 0; k < r->total; k++)
            mc_progress_add_cost(&p, 1);
        p.done = r->done;
        p.done_cost = r->done;
        p.failed = r->failed;
        char line[512];
        mc_progress_format(&p, p.started + r->elapsed_s, r->columns, line, sizeof line);
        if ((int)strlen(line) > r->columns - 1)
            fail_msg("row %zu: %zu columns on a %d-column terminal: '%s'", i, strlen(line), r->columns, line);
        if (r->columns >= 60 && !strstr(line, "ETA"))
            fail_msg("row %zu: no ETA in '%s'", i, line);
    }
}

/* Nine small items done in 9 s, one left that costs a thousand of them: 1000 s to go. */
static void test_eta_weighs_cost(void **state)
{
    (void)state;
    mc_progress p;
    mc_progress_init(&p, stderr, 10, "metallic-check", false);
    for (int k = 0; k < 9; k++)
        mc_progress_add_cost(&p, 1);
    mc_progress_add_cost(&p, 1000);
    for (int k = 0; k < 9; k++)
        mc_progress_step(&p, 1, false);
    char line[512];
    mc_progress_format(&p, p.started + 9, 200, line, sizeof line);
    assert_non_null(strstr(line, "ETA 16m40s")); /* counting items would say 1s */
    mc_progress_step(&p, 1000, false);
    mc_progress_format(&p, p.started + 9009, 200, line, sizeof line);
    assert_non_null(strstr(line, "ETA 0s"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_fits_the_terminal),
        cmocka_unit_test(test_eta_weighs_cost),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
