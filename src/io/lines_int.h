/*
 * lines_int.h - the line reader of the text tables (private to src/io):
 * labels and sample tables (table.c) and BIDS events (events.c) read a
 * whole file into one buffer and walk it line by line in place.
 */
#ifndef NIDEC_IO_LINES_INT_H
#define NIDEC_IO_LINES_INT_H

#include <stddef.h>

/* The next line of buf[0..len) at *pos, NUL-terminated in place (LF or
 * CR LF; a NUL byte inside a line ends it early), *pos moved past it;
 * NULL at the end. */
char *nidec_io_next_line(char *buf, size_t len, size_t *pos);

/* 1 when s holds only white space (isspace) or nothing. */
int nidec_io_blank(const char *s);

#endif
