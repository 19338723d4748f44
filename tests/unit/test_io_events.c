/*
 * test_io_events.c - labels table and BIDS events -> per-volume labels
 * (src/io/events.c): the label rule at its boundaries, run indexing, the
 * errors, and allocation failure at every step of the loaders (each must
 * fail cleanly and leave its output untouched; run under valgrind or ASan
 * to see that nothing leaks).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "nidec/events.h"
#include "nidec/mem.h"

static char dir[] = "/tmp/nidec-test-events-XXXXXX";

static const char *write_file(const char *name, const char *text)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[300];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_io_events__label_rule(void **state)
{
	nidec_events ev = NIDEC_EVENTS_INIT;
	nidec_vol_labels l = NIDEC_VOL_LABELS_INIT;
	nidec_err err = NIDEC_ERR_INIT;
	const char *p;
	(void)state;

	p = write_file("a_events.tsv",
		       "onset\tduration\ttrial_type\n"
		       "5.0\t5\tface\n"      /* volumes at 5.0 and 7.5 */
		       "15\t2.5\tcat\n"      /* volume at 15 only: the end is excluded */
		       "16\t10\tn/a\n"       /* labels nothing */
		       "20\t5\thouse\n"
		       "22.5\t5\tshoe\n");   /* overlaps house at 22.5: the first wins */
	assert_int_equal(nidec_events_read(p, &ev, &err), 0);
	assert_int_equal(ev.n, 4);
	assert_int_equal(nidec_events_label_run(&ev, 12, 2.5, 0, 3, &l, &err), 0);
	assert_int_equal(l.n, 12);
	assert_string_equal(l.label[0], "rest");
	assert_string_equal(l.label[1], "rest");   /* 2.5 */
	assert_string_equal(l.label[2], "face");   /* 5.0 = onset: inside */
	assert_string_equal(l.label[3], "face");   /* 7.5 */
	assert_string_equal(l.label[4], "rest");   /* 10.0 = onset + duration: outside */
	assert_string_equal(l.label[6], "cat");    /* 15 */
	assert_string_equal(l.label[7], "rest");   /* 17.5: the n/a event labels nothing */
	assert_string_equal(l.label[8], "house");  /* 20 */
	assert_string_equal(l.label[9], "house");  /* 22.5: house listed first */
	assert_string_equal(l.label[10], "shoe");  /* 25 */
	assert_string_equal(l.label[11], "rest");  /* 27.5 */
	assert_int_equal(l.run[0], 3);
	assert_int_equal(l.n_runs, 4);
	/* a float32 TR (2.2 stored as 2.2000000477) still lands on the onset */
	assert_int_equal(nidec_events_find(&ev, 2 * (double)2.2f + 0.6, 0), 0);
	/* hrf_shift moves every event */
	assert_int_equal(nidec_events_find(&ev, 7.5, 0), 0);
	assert_int_equal(nidec_events_find(&ev, 10.0, 2.5), 0);
	assert_int_equal(nidec_events_find(&ev, 5.0, 2.5), -1);
	nidec_vol_labels_release(&l);
	nidec_events_release(&ev);
	assert_int_equal(err.code, 0);
}

static void test_io_events__errors(void **state)
{
	nidec_events ev = NIDEC_EVENTS_INIT;
	nidec_err err = NIDEC_ERR_INIT;
	const char *p;
	(void)state;

	p = write_file("b_events.tsv", "onset\tduration\ttrial_type\n1\t2\tface\n12,5\t2\tcat\n");
	assert_int_equal(nidec_events_read(p, &ev, &err), NIDEC_EINPUT);
	assert_non_null(strstr(err.msg, "line 3: onset '12,5' is not a number; use '.' as decimal separator"));
	assert_null(ev.ev);
	p = write_file("c_events.tsv", "onset\tduration\n1\t2\n");
	assert_int_equal(nidec_events_read(p, &ev, &err), NIDEC_EINPUT);
	assert_non_null(strstr(err.msg, "no column 'trial_type' (the header has: onset, duration)"));
	p = write_file("d_events.tsv", "onset\tduration\ttrial_type\n1\t-2\tface\n");
	assert_int_equal(nidec_events_read(p, &ev, &err), NIDEC_EINPUT);
	assert_non_null(strstr(err.msg, "duration '-2' is negative"));
	assert_int_equal(nidec_events_read("/nonexistent/e.tsv", &ev, &err), NIDEC_EIO);
	assert_non_null(strstr(err.msg, "cannot open '/nonexistent/e.tsv'"));
}

static void test_io_events__table(void **state)
{
	nidec_vol_labels l = NIDEC_VOL_LABELS_INIT;
	nidec_err err = NIDEC_ERR_INIT;
	const char *p;
	(void)state;

	/* runs 10, 2, 2, 10, 1 -> numeric order 1, 2, 10 -> 2, 1, 1, 2, 0 */
	p = write_file("labels.txt", "labels chunks\r\nface 10\r\ncat 2\r\ncat 2\r\n\r\nrest 10\r\nface 1\r\n");
	assert_int_equal(nidec_labels_read_table(p, "labels", "chunks", &l, &err), 0);
	assert_int_equal(l.n, 5);
	assert_int_equal(l.n_runs, 3);
	assert_string_equal(l.label[0], "face");
	assert_string_equal(l.label[3], "rest");
	assert_int_equal(l.run[0], 2);
	assert_int_equal(l.run[1], 1);
	assert_int_equal(l.run[4], 0);
	assert_string_equal(l.run_names[2], "10");
	nidec_vol_labels_release(&l);

	/* non-numeric runs sort in byte order */
	p = write_file("labels2.txt", "chunks\tlabels\nb\tx\na\ty\n");
	assert_int_equal(nidec_labels_read_table(p, "labels", "chunks", &l, &err), 0);
	assert_int_equal(l.run[0], 1);
	assert_int_equal(l.run[1], 0);
	nidec_vol_labels_release(&l);

	p = write_file("labels3.txt", "label chunk\nface 0\n");
	assert_int_equal(nidec_labels_read_table(p, "labels", "chunks", &l, &err), NIDEC_EINPUT);
	assert_non_null(strstr(err.msg, "no column 'labels' (the header has: label, chunk)"));
	p = write_file("labels4.txt", "labels chunks\nface 0\ncat\n");
	assert_int_equal(nidec_labels_read_table(p, "labels", "chunks", &l, &err), NIDEC_EINPUT);
	assert_non_null(strstr(err.msg, "line 3: 1 field"));
	assert_int_equal(l.n, 0);
	assert_null(l.label);
}

/* issue 20: every row has exactly the header's fields; quoted fields are
 * parsed (pandas and CSV: "" is one quote), a bad quote is refused. */
static void test_io_events__rows_and_quotes(void **state)
{
	nidec_vol_labels l = NIDEC_VOL_LABELS_INIT;
	nidec_events ev = NIDEC_EVENTS_INIT;
	nidec_err err = NIDEC_ERR_INIT;
	const char *p;
	(void)state;

	/* a 13th run was read from the wrong field of this row */
	p = write_file("l5.txt", "labels chunks\nface 0\nface 1 0\n");
	assert_int_equal(nidec_labels_read_table(p, "labels", "chunks", &l, &err), NIDEC_EINPUT);
	assert_non_null(strstr(err.msg, "line 3: 3 fields but the header has 2 columns; quote a value"));
	p = write_file("l6.txt", "labels chunks extra\nface 0 x\ncat 1\n");
	assert_int_equal(nidec_labels_read_table(p, "labels", "chunks", &l, &err), NIDEC_EINPUT);
	assert_non_null(strstr(err.msg, "line 3: 2 fields but the header has 3 columns"));
	/* quoted: a blank inside, an empty field, a doubled quote */
	p = write_file("l7.txt", "\"labels\" chunks\n\"face 1\" 0\n\"\" 1\n\"say \"\"hi\"\"\" \"2\"\n");
	assert_int_equal(nidec_labels_read_table(p, "labels", "chunks", &l, &err), 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.label[0], "face 1");
	assert_string_equal(l.label[1], "");
	assert_string_equal(l.label[2], "say \"hi\"");
	assert_int_equal(l.run[2], 2);
	nidec_vol_labels_release(&l);
	p = write_file("l8.txt", "labels chunks\n\"face 1 0\n");
	assert_int_equal(nidec_labels_read_table(p, "labels", "chunks", &l, &err), NIDEC_EINPUT);
	assert_non_null(strstr(err.msg, "l8.txt' line 2: a quoted field is not closed"));
	p = write_file("l9.txt", "labels chunks\n\"face\"x 0\n");
	assert_int_equal(nidec_labels_read_table(p, "labels", "chunks", &l, &err), NIDEC_EINPUT);
	assert_non_null(strstr(err.msg, "line 2: a quoted field"));
	assert_null(l.label);

	p = write_file("e1_events.tsv", "onset\tduration\ttrial_type\n0\t2\tface\t\n");
	assert_int_equal(nidec_events_read(p, &ev, &err), NIDEC_EINPUT);
	assert_non_null(strstr(err.msg, "line 2: 4 fields but the header has 3 columns; separate fields with tabs"));
	p = write_file("e2_events.tsv", "onset\tduration\ttrial_type\n0\t2\t\"face\tup\"\n");
	assert_int_equal(nidec_events_read(p, &ev, &err), 0);
	assert_string_equal(ev.ev[0].trial_type, "face\tup");
	nidec_events_release(&ev);
}

/* Events that label no volume, and volumes in overlapping events. */
static void test_io_events__check_run(void **state)
{
	nidec_events ev = NIDEC_EVENTS_INIT;
	nidec_events_check c;
	nidec_err err = NIDEC_ERR_INIT;
	const char *p;
	(void)state;

	p = write_file("f_events.tsv",
		       "onset\tduration\ttrial_type\n"
		       "5.0\t5\tface\n"      /* volumes 2, 3 */
		       "6\t1\tcat\n"         /* 6..7: no volume (2.5 s TR) */
		       "7.5\t5\thouse\n"     /* volume 3 is face's; 4 is its own */
		       "12.5\t0\tshoe\n"     /* duration 0: nothing */
		       "7.5\t1\tface\n"      /* volume 3 again, same type as the winner */
		       "100\t5\tcat\n");     /* after the run */
	assert_int_equal(nidec_events_read(p, &ev, &err), 0);
	nidec_events_check_run(&ev, 12, 2.5, 0, &c);
	assert_int_equal(c.n_empty, 3);
	assert_int_equal(c.first_empty, 1);
	assert_int_equal(c.n_overlap, 1);
	assert_int_equal(c.overlap_vol, 3);
	assert_int_equal(c.overlap_first, 0);
	assert_int_equal(c.overlap_other, 2);
	/* shifted by 1 s, cat's interval holds volume 3 (7.5 s), the second
	 * face's (8.5 to 9.5 s) none */
	nidec_events_check_run(&ev, 12, 2.5, 1.0, &c);
	assert_int_equal(c.n_empty, 3);
	assert_int_equal(c.first_empty, 3);
	nidec_events_release(&ev);
}

/* Fail the 1st, 2nd, ... allocation of `fn` until it succeeds; every
 * failure must be NIDEC_ENOMEM with the output untouched. */
static void fault_loop_table(const char *path)
{
	long k;

	for (k = 1; k < 10000; k++) {
		nidec_vol_labels l = NIDEC_VOL_LABELS_INIT;
		nidec_err err = NIDEC_ERR_INIT;
		int rc;

		nidec_mem_fail_at(k);
		rc = nidec_labels_read_table(path, "labels", "chunks", &l, &err);
		nidec_mem_fail_at(0);
		if (rc == 0) {
			assert_int_equal(l.n, 40);
			nidec_vol_labels_release(&l);
			return;
		}
		assert_int_equal(rc, NIDEC_ENOMEM);
		assert_int_equal(l.n, 0);
		assert_null(l.label);
		assert_null(l.run);
	}
	fail_msg("the loader never succeeded");
}

static void test_io_events__alloc_failures(void **state)
{
	char text[4096] = "labels chunks\n";
	const char *p;
	long k;
	int i;
	(void)state;

	for (i = 0; i < 40; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "c%d %d\n", i % 3, i / 10);
	p = write_file("fault_labels.txt", text);
	fault_loop_table(p);

	p = write_file("fault_events.tsv",
		       "onset\tduration\ttrial_type\n0\t5\ta\n10\t5\tb\n20\t5\tc\n30\t5\td\n40\t5\te\n");
	for (k = 1; k < 10000; k++) {
		nidec_events ev = NIDEC_EVENTS_INIT;
		nidec_vol_labels l = NIDEC_VOL_LABELS_INIT;
		nidec_err err = NIDEC_ERR_INIT;
		int rc;

		nidec_mem_fail_at(k);
		rc = nidec_events_read(p, &ev, &err);
		if (rc == 0) {
			/* one run appended, then a second one, both under the fault */
			rc = nidec_events_label_run(&ev, 20, 2.5, 0, 0, &l, &err);
			if (rc == 0)
				rc = nidec_events_label_run(&ev, 20, 2.5, 0, 1, &l, &err);
			if (rc < 0)
				assert_true(l.n == 0 || l.n == 20);
		} else {
			assert_null(ev.ev);
			assert_null(ev.path);
		}
		nidec_mem_fail_at(0);
		nidec_vol_labels_release(&l);
		nidec_events_release(&ev);
		if (rc == 0)
			return;
		assert_int_equal(rc, NIDEC_ENOMEM);
	}
	fail_msg("the events loader never succeeded");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_io_events__label_rule),
		cmocka_unit_test(test_io_events__errors),
		cmocka_unit_test(test_io_events__table),
		cmocka_unit_test(test_io_events__rows_and_quotes),
		cmocka_unit_test(test_io_events__check_run),
		cmocka_unit_test(test_io_events__alloc_failures),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
