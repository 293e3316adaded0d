/* core/outfile.c: outputs are renamed into place only over regular files or new paths; devices,
 * pipes and links are written in place (report --out /dev/null as root once replaced /dev/null).
 * SPDX-License-Identifier: MIT */
#include "outfile.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef enum target_kind { TARGET_NEW, TARGET_REGULAR, TARGET_IN_PLACE, TARGET_DIRECTORY, TARGET_ERROR } target_kind;

static target_kind classify(const char *path, int *errno_out)
{
    struct stat sb;
    if (lstat(path, &sb) != 0) {
        *errno_out = errno;
        return errno == ENOENT ? TARGET_NEW : TARGET_ERROR;
    }
    if (S_ISLNK(sb.st_mode)) /* the rename would replace the link, not what it names */
        return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode) ? TARGET_DIRECTORY : TARGET_IN_PLACE;
    if (S_ISDIR(sb.st_mode))
        return TARGET_DIRECTORY;
    return S_ISREG(sb.st_mode) ? TARGET_REGULAR : TARGET_IN_PLACE;
}

mc_status mc_outfile_open(mc_outfile *o, const char *path, const char *what, mc_err *err)
{
    memset(o, 0, sizeof *o);
    if (!path || !*path)
        return mc_err_set(err, MC_ERR_USAGE, "%s: an empty path", what);
    snprintf(o->path, sizeof o->path, "%s", path);
    if (strcmp(path, "-") == 0) {
        o->f = stdout;
        o->is_stdout = true;
        return MC_OK;
    }
    int e = 0;
    switch (classify(path, &e)) {
    case TARGET_DIRECTORY:
        return mc_err_set(err, MC_ERR_USAGE, "%s %s: is a directory", what, path);
    case TARGET_ERROR:
        return mc_err_set(err, MC_ERR_IO, "%s %s: %s", what, path, strerror(e));
    case TARGET_IN_PLACE:
        if (!(o->f = fopen(path, "w")))
            return mc_err_set(err, MC_ERR_IO, "%s %s: %s", what, path, strerror(errno));
        return MC_OK;
    case TARGET_NEW:
    case TARGET_REGULAR:
        break;
    }
    snprintf(o->tmp, sizeof o->tmp, "%s.tmp.%ld", path, (long)getpid());
    if (!(o->f = fopen(o->tmp, "w"))) {
        int saved = errno;
        o->tmp[0] = '\0';
        return mc_err_set(err, MC_ERR_IO, "%s %s: cannot write beside it: %s", what, path, strerror(saved));
    }
    return MC_OK;
}

mc_status mc_outfile_commit(mc_outfile *o, const char *what, mc_err *err)
{
    mc_status st = MC_OK;
    if (!o->f)
        return mc_err_set(err, MC_ERR_INTERNAL, "%s: committing an output that is not open", what);
    bool bad = fflush(o->f) != 0 || ferror(o->f) != 0;
    if (!o->is_stdout)
        bad |= fclose(o->f) != 0;
    o->f = NULL;
    if (bad)
        st = mc_err_set(err, MC_ERR_IO, "%s %s: write failed (disk full?)", what, o->path);
    else if (o->tmp[0] && rename(o->tmp, o->path) != 0)
        st = mc_err_set(err, MC_ERR_IO, "%s %s: cannot move it into place: %s", what, o->path, strerror(errno));
    if (st && o->tmp[0])
        remove(o->tmp);
    o->tmp[0] = '\0';
    return st;
}

void mc_outfile_abort(mc_outfile *o)
{
    if (o->f && !o->is_stdout)
        fclose(o->f);
    o->f = NULL;
    if (o->tmp[0])
        remove(o->tmp);
    o->tmp[0] = '\0';
}

mc_status mc_outfile_check_regular(const char *path, const char *what, mc_err *err)
{
    int e = 0;
    switch (classify(path, &e)) {
    case TARGET_NEW:
    case TARGET_REGULAR:
        return MC_OK;
    case TARGET_ERROR:
        return mc_err_set(err, MC_ERR_IO, "%s %s: %s", what, path, strerror(e));
    case TARGET_IN_PLACE:
    case TARGET_DIRECTORY:
        break;
    }
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode))
        return MC_OK; /* a link to a regular file: SQLite follows it */
    return mc_err_set(err, MC_ERR_USAGE, "%s %s: not a regular file (a database cannot be written to a device or pipe)",
                      what, path);
}
