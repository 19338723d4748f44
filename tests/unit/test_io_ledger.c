/*
 * test_io_ledger.c - the checkpoint ledger (include/nidec/ledger.h): what
 * is appended is read back bit for bit; a torn last record is dropped and
 * the file truncated before appending; a bad checksum elsewhere, a
 * foreign configuration, dataset, version or task count are refused with
 * a message naming what differs, and nothing is read into the table.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "nidec/ledger.h"
#include "nidec/log.h"
#include "nidec/mem.h"

#define N_TASKS 5

struct fix {
	char dir[64];
	char path[128];
	nidec_ledger_id id;
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/nidec-test-ledger.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/%s", f->dir, NIDEC_LEDGER_NAME);
	memset(f->id.config_sha256, 'a', NIDEC_SHA256_HEX - 1);
	memset(f->id.inputs_sha256, 'b', NIDEC_SHA256_HEX - 1);
	strcpy(f->id.version, "0.1.0 (test)");
	f->id.n_tasks = N_TASKS;
	f->id.config_text = "[cv]\nscheme = kfold\n";
	nidec_log_set_level(NIDEC_LOG_ERROR); /* the torn record's warning */
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* A result of task t with one fit (its score t / 10). */
static void make_result(nidec_result *r, double *score, double *C, size_t t)
{
	memset(r, 0, sizeof(*r));
	*score = (double)t / 10.0;
	*C = 1.0;
	r->task = t;
	r->n_iter = -1;
	r->n_fit = 1;
	r->score = score;
	r->C = C;
}

/* A ledger holding the results of tasks 0..n-1. */
static void write_ledger(struct fix *f, size_t n)
{
	nidec_ledger *lg = NULL;
	nidec_err err = NIDEC_ERR_INIT;
	size_t t;

	assert_int_equal(nidec_ledger_create(f->path, &f->id, 30.0, &lg, &err), 0);
	for (t = 0; t < n; t++) {
		nidec_result r;
		double score, C;
		make_result(&r, &score, &C, t);
		assert_int_equal(nidec_ledger_append(lg, &r, &err), 0);
	}
	assert_int_equal(nidec_ledger_close(&lg, &err), 0);
	assert_null(lg);
}

static long file_size(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return (long)st.st_size;
}

/* Resume into a fresh table; returns the status, *n the results read. */
static int resume(struct fix *f, const nidec_ledger_id *id, nidec_result **table, size_t *n,
		  nidec_err *err)
{
	nidec_ledger *lg = NULL;
	nidec_err e2 = NIDEC_ERR_INIT;
	int rc;

	memset(table, 0, N_TASKS * sizeof(*table));
	*n = 0;
	rc = nidec_ledger_resume(f->path, NULL, id, 30.0, table, N_TASKS, NULL, NULL, n, &lg, err);
	if (rc == 0)
		assert_int_equal(nidec_ledger_close(&lg, &e2), 0);
	else
		assert_null(lg);
	return rc;
}

static void free_table(nidec_result **table)
{
	size_t t;

	for (t = 0; t < N_TASKS; t++)
		nidec_result_free(&table[t]);
}

static void test_io_ledger__round_trip(void **state)
{
	struct fix *f = *state;
	nidec_result *table[N_TASKS];
	nidec_err err = NIDEC_ERR_INIT;
	size_t n, t;

	write_ledger(f, 3);
	assert_int_equal(resume(f, &f->id, table, &n, &err), 0);
	assert_int_equal(n, 3);
	for (t = 0; t < 3; t++) {
		assert_non_null(table[t]);
		assert_int_equal(table[t]->task, t);
		assert_true(table[t]->score[0] == (double)t / 10.0);
	}
	assert_null(table[3]);
	assert_null(table[4]);
	free_table(table);
}

/* The process died while writing the last record: it is dropped, the
 * file cut back to the last whole record, and appending goes on. */
static void test_io_ledger__torn_record(void **state)
{
	struct fix *f = *state;
	nidec_result *table[N_TASKS], r;
	nidec_ledger *lg = NULL;
	nidec_err err = NIDEC_ERR_INIT;
	double score, C;
	long whole, full;
	size_t n;

	write_ledger(f, 2);
	whole = file_size(f->path);
	write_ledger(f, 3);
	full = file_size(f->path);
	assert_true(full > whole);
	assert_int_equal(truncate(f->path, full - 5), 0);

	memset(table, 0, sizeof(table));
	assert_int_equal(nidec_ledger_resume(f->path, NULL, &f->id, 30.0, table, N_TASKS, NULL, NULL,
					     &n, &lg, &err), 0);
	assert_int_equal(n, 2);
	assert_null(table[2]);
	assert_int_equal(file_size(f->path), whole);
	make_result(&r, &score, &C, 4);
	assert_int_equal(nidec_ledger_append(lg, &r, &err), 0);
	assert_int_equal(nidec_ledger_close(&lg, &err), 0);
	free_table(table);

	assert_int_equal(resume(f, &f->id, table, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_non_null(table[4]);
	free_table(table);
}

/* A bad checksum in a record that is not the last is corruption. */
static void test_io_ledger__bad_checksum(void **state)
{
	struct fix *f = *state;
	nidec_result *table[N_TASKS];
	nidec_err err = NIDEC_ERR_INIT;
	long one, two;
	unsigned char b;
	size_t n, t;
	int fd;

	write_ledger(f, 1);
	one = file_size(f->path);
	write_ledger(f, 2);
	two = file_size(f->path);
	write_ledger(f, 3);
	/* flip a byte of the second result's payload */
	fd = open(f->path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &b, 1, (one + two) / 2), 1);
	b ^= 0x55;
	assert_int_equal(pwrite(fd, &b, 1, (one + two) / 2), 1);
	assert_int_equal(close(fd), 0);

	assert_int_equal(resume(f, &f->id, table, &n, &err), NIDEC_EFORMAT);
	assert_non_null(strstr(err.msg, "corrupt"));
	assert_non_null(strstr(err.msg, f->path));
	for (t = 0; t < N_TASKS; t++)
		assert_null(table[t]);
}

/* Another configuration, dataset, version or task count: refused, and
 * the message names what differs. */
static void test_io_ledger__foreign(void **state)
{
	struct fix *f = *state;
	nidec_result *table[N_TASKS];
	nidec_err err = NIDEC_ERR_INIT;
	nidec_ledger_id other;
	size_t n;

	write_ledger(f, 2);

	other = f->id;
	other.config_sha256[0] = 'c';
	other.config_text = "[cv]\nscheme = leave-one-run-out\n";
	assert_int_equal(resume(f, &other, table, &n, &err), NIDEC_EINPUT);
	assert_non_null(strstr(err.msg, "another configuration"));
	assert_non_null(strstr(err.msg, "scheme = kfold"));
	assert_non_null(strstr(err.msg, "scheme = leave-one-run-out"));
	assert_int_equal(n, 0);

	other = f->id;
	other.inputs_sha256[0] = 'c';
	nidec_err_clear(&err);
	assert_int_equal(resume(f, &other, table, &n, &err), NIDEC_EINPUT);
	assert_non_null(strstr(err.msg, "another dataset"));

	other = f->id;
	strcpy(other.version, "0.2.0");
	nidec_err_clear(&err);
	assert_int_equal(resume(f, &other, table, &n, &err), NIDEC_EINPUT);
	assert_non_null(strstr(err.msg, "nidec 0.1.0 (test)"));

	other = f->id;
	other.n_tasks = N_TASKS - 1;
	nidec_err_clear(&err);
	assert_int_equal(resume(f, &other, table, &n, &err), NIDEC_EINPUT);
	assert_non_null(strstr(err.msg, "tasks"));
}

/* Not a ledger at all. */
static void test_io_ledger__not_a_ledger(void **state)
{
	struct fix *f = *state;
	nidec_result *table[N_TASKS];
	nidec_err err = NIDEC_ERR_INIT;
	FILE *fp = fopen(f->path, "w");
	size_t n;

	assert_non_null(fp);
	fputs("labels chunks\nface 0\n", fp);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(resume(f, &f->id, table, &n, &err), NIDEC_EFORMAT);
	assert_non_null(strstr(err.msg, "not a nidec checkpoint ledger"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_io_ledger__round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_io_ledger__torn_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_io_ledger__bad_checksum, setup, teardown),
		cmocka_unit_test_setup_teardown(test_io_ledger__foreign, setup, teardown),
		cmocka_unit_test_setup_teardown(test_io_ledger__not_a_ledger, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
