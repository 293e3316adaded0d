/* engine/plugin.h: plugins: kernels and backends from shared libraries built against the public
 * ABI (include/metallic_check/plugin.h), adapted to the harness's own variant and backend records.
 * SPDX-License-Identifier: MIT */
#ifndef MC_PLUGIN_H
#define MC_PLUGIN_H

#include <stdbool.h>

#include "core/variant.h"

#define MC_PLUGIN_MAX 16                /* plugins one command loads */
#define MC_PLUGIN_INIT_TIMEOUT_S 10.0   /* a plugin's init (in its child) must return within this */

/* In the parent: reads each plugin's registrations in a child process (the parent never runs
 * plugin code), checks them (entry point, ABI major, op, backend and name clashes with built-ins
 * and with each other) and adds stand-in records to the registry. The same file named twice is
 * loaded once. A plugin that crashes or hangs in its init, or is refused, is an MC_ERR_CONFIG
 * naming its path; nothing of the failing call's plugins is added then. */
mc_status mc_plugins_load(const char *const *paths, int n, double timeout_s, mc_err *err);

/* In a child that runs kernels (a worker, the capability probe): loads every plugin here and binds
 * the stand-in records to its functions. Without plugins it does nothing. */
mc_status mc_plugins_attach(mc_err *err);

/* The runner names the plugin variant whose probe, supports or run it calls next (the harness's
 * variant callbacks carry no variant): a built-in variant unbinds. */
void mc_plugin_bind(const mc_variant *v);

/* The plugins' variants, in load order, and their backends (for the registry and backend list). */
const mc_variant *const *mc_plugin_variants(int *count /* out */);
const mc_backend *const *mc_plugin_backends(int *count /* out */);
/* Changes whenever plugins are added: caches of the registry rebuild on it. */
int mc_plugin_generation(void);

/* The absolute path of the plugin that brings variant v, or backend `name`; NULL for built-ins. */
const char *mc_plugin_path_of(const mc_variant *v);
const char *mc_plugin_backend_path(const char *name);

/* Drops every plugin (tests: a fresh start; libraries already loaded in this process stay). */
void mc_plugins_reset(void);

#endif
