/*
 * lines.c - the line reader of the text tables (lines_int.h).
 */
#include <ctype.h>
#include <string.h>

#include "lines_int.h"

char *nidec_io_next_line(char *buf, size_t len, size_t *pos)
{
	char *line, *e;

	if (*pos >= len)
		return NULL;
	line = buf + *pos;
	e = memchr(line, '\n', len - *pos);
	if (e) {
		*e = '\0';
		*pos = (size_t)(e - buf) + 1;
	} else {
		*pos = len;
	}
	e = line + strlen(line);
	if (e > line && e[-1] == '\r')
		e[-1] = '\0';
	return line;
}

int nidec_io_blank(const char *s)
{
	while (*s && isspace((unsigned char)*s))
		s++;
	return *s == '\0';
}
