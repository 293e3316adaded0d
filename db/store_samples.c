/* db/store_samples.c: timing samples to and from their stored bytes, whatever the host order.
 * SPDX-License-Identifier: MIT */
#include "store_samples.h"

#include <stdlib.h>
#include <string.h>

unsigned char *mc_samples_blob(const mc_timing *t)
{
    unsigned char *b = malloc((size_t)(t->n ? t->n : 1) * 8);
    for (int i = 0; b && i < t->n; i++) {
        uint64_t bits;
        memcpy(&bits, &t->samples_ns[i], 8);
        for (int k = 0; k < 8; k++)
            b[8 * i + k] = (unsigned char)(bits >> (8 * k));
    }
    return b;
}

mc_status mc_samples_read(const mc_dbv *col, mc_timing *t, mc_err *err)
{
    int bytes = !col->null && col->type == MC_DBV_BLOB ? col->len : 0;
    if (bytes != 8 * t->n)
        return mc_err_set(err, MC_ERR_DB, "a timing claims %d samples but holds %d bytes", t->n, bytes);
    t->samples_ns = malloc((size_t)(t->n ? t->n : 1) * sizeof *t->samples_ns);
    if (!t->samples_ns)
        return mc_err_set(err, MC_ERR_NOMEM, "no memory for %d samples", t->n);
    for (int i = 0; i < t->n; i++) {
        uint64_t bits = 0;
        for (int k = 0; k < 8; k++)
            bits |= (uint64_t)col->b[8 * i + k] << (8 * k);
        memcpy(&t->samples_ns[i], &bits, 8);
    }
    return MC_OK;
}
