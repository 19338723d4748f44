/*
 * fuzz_util.h - shared by the libFuzzer targets of tests/fuzz/: the input
 * is handed to nidec's path-based readers through an in-memory file
 * (memfd) opened as /proc/self/fd/N, so the fuzzers run the real readers,
 * zlib and stdio included, without touching the disk.
 * Not part of nidec; built only by `make fuzz`.
 */
#ifndef NIDEC_FUZZ_UTIL_H
#define NIDEC_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* Replace the memfd's contents with data; returns its path. */
static inline const char *fuzz_file(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];

	if (fd < 0) {
		fd = memfd_create("nidec-fuzz", 0);
		if (fd < 0) {
			perror("memfd_create");
			abort();
		}
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) < 0 || (size && pwrite(fd, data, size, 0) != (ssize_t)size)) {
		perror("memfd write");
		abort();
	}
	return path;
}

#endif
