/* cli/cli_db.h: `metallic-check db`: integrity check and paired A/B import.
 * SPDX-License-Identifier: MIT */
#ifndef MC_CLI_DB_H
#define MC_CLI_DB_H

/* argv[0] is the command's own name. Exit: 0 sound or imported; 1 the integrity check found
 * damage; 4 an import with no pair in common; 2 usage or database errors. */
int mc_cli_db(int argc, char **argv);

#endif
