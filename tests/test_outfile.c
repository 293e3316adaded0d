/* tests/test_outfile.c: outputs written without replacing what is not a regular file (core/outfile.c).
 * Focus: a table of targets {new path, regular file, FIFO, link to /dev/null, directory} and what
 * each must be after a write: a regular file renamed into place, a FIFO still a FIFO that its
 * reader read, a link still a link (/dev/null is never touched: the link stands in for it).
 * SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/outfile.h"

static char dir[256];

static void path_of(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "%s/mc_outfile_XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static mc_status write_text(const char *path, const char *text, mc_err *err)
{
    mc_outfile o;
    mc_status st = mc_outfile_open(&o, path, "--out", err);
    if (st)
        return st;
    fputs(text, o.f);
    return mc_outfile_commit(&o, "--out", err);
}

static void slurp(const char *path, char *out, size_t cap)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(out, 1, cap - 1, f);
    out[n] = '\0';
    fclose(f);
}

static void test_new_and_regular(void **state)
{
    (void)state;
    char p[300], got[64];
    mc_err err = {0};
    path_of(p, sizeof p, "page.html");
    assert_int_equal(write_text(p, "one", &err), MC_OK);
    slurp(p, got, sizeof got);
    assert_string_equal(got, "one");
    assert_int_equal(write_text(p, "two", &err), MC_OK);
    slurp(p, got, sizeof got);
    assert_string_equal(got, "two");
}

/* An aborted write leaves the old file as it was, and no temporary beside it. */
static void test_abort_keeps_old(void **state)
{
    (void)state;
    char p[300], got[64], tmp[4200];
    mc_err err = {0};
    path_of(p, sizeof p, "kept.xml");
    assert_int_equal(write_text(p, "old", &err), MC_OK);
    mc_outfile o;
    assert_int_equal(mc_outfile_open(&o, p, "--junit", &err), MC_OK);
    snprintf(tmp, sizeof tmp, "%s", o.tmp);
    fputs("half", o.f);
    mc_outfile_abort(&o);
    slurp(p, got, sizeof got);
    assert_string_equal(got, "old");
    assert_int_equal(access(tmp, F_OK), -1);
}

static void *read_fifo(void *arg)
{
    static char got[64];
    int fd = open(arg, O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, got, sizeof got - 1) : -1;
    got[n > 0 ? n : 0] = '\0';
    if (fd >= 0)
        close(fd);
    return got;
}

static void test_fifo_written_in_place(void **state)
{
    (void)state;
    char p[300];
    mc_err err = {0};
    path_of(p, sizeof p, "out.fifo");
    assert_int_equal(mkfifo(p, 0600), 0);
    pthread_t reader;
    assert_int_equal(pthread_create(&reader, NULL, read_fifo, p), 0);
    assert_int_equal(write_text(p, "through the pipe", &err), MC_OK);
    void *got;
    pthread_join(reader, &got);
    assert_string_equal((const char *)got, "through the pipe");
    struct stat sb;
    assert_int_equal(lstat(p, &sb), 0);
    assert_true(S_ISFIFO(sb.st_mode));
}

static void test_link_to_device_stays(void **state)
{
    (void)state;
    char p[300];
    mc_err err = {0};
    path_of(p, sizeof p, "null");
    assert_int_equal(symlink("/dev/null", p), 0);
    assert_int_equal(write_text(p, "discarded", &err), MC_OK);
    struct stat sb;
    assert_int_equal(lstat(p, &sb), 0);
    assert_true(S_ISLNK(sb.st_mode));
    assert_int_equal(stat("/dev/null", &sb), 0);
    assert_true(S_ISCHR(sb.st_mode));
}

static void test_refusals(void **state)
{
    (void)state;
    char p[300], f[300];
    mc_err err = {0};
    mc_outfile o;
    assert_int_equal(mc_outfile_open(&o, dir, "--out", &err), MC_ERR_USAGE);
    assert_non_null(strstr(err.msg, "is a directory"));
    path_of(f, sizeof f, "db.fifo");
    assert_int_equal(mkfifo(f, 0600), 0);
    assert_int_equal(mc_outfile_check_regular(f, "-o", &err), MC_ERR_USAGE);
    assert_non_null(strstr(err.msg, "not a regular file"));
    path_of(p, sizeof p, "new.db");
    assert_int_equal(mc_outfile_check_regular(p, "-o", &err), MC_OK);
    path_of(p, sizeof p, "missing-dir/x.html");
    assert_int_equal(mc_outfile_open(&o, p, "--out", &err), MC_ERR_IO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_and_regular),       cmocka_unit_test(test_abort_keeps_old),
        cmocka_unit_test(test_fifo_written_in_place), cmocka_unit_test(test_link_to_device_stays),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
