/*
 * version.h - who made an output: nidec's version and the command line
 * of this process, recorded in every output's provenance (src/base/
 * version.c).  The command line is set once in main() before any
 * command runs; until then it reads "nidec".  libc only.
 */
#ifndef NIDEC_VERSION_H
#define NIDEC_VERSION_H

/* "0.1.0 (<git describe>)", fixed at build time (Makefile). */
extern const char nidec_version[];

/* Record argv as the command line ("nidec run a.ini -v": argv[0] is
 * written "nidec").  Returns 0, or NIDEC_ENOMEM (the line stays "nidec"). */
int nidec_set_command_line(int argc, char **argv);

/* The command line, borrowed (valid until nidec_set_command_line or
 * nidec_free_command_line). */
const char *nidec_command_line(void);
void nidec_free_command_line(void);

#endif
