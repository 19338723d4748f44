/*
 * test_base_opts.c - the table-driven option parser (opts.h): syntax,
 * types and ranges, missing values, unknown options with suggestions,
 * config keys and --set checked against a schema, positional arguments,
 * and the --help and --list-options generated from the same table.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nidec/cfg.h"
#include "nidec/mem.h"
#include "nidec/opts.h"

static const nidec_key_name kinds[] = { { "int16", 0 }, { "float32", 1 }, { NULL, 0 } };
static const nidec_keyschema *const schemas[] = { &nidec_cfg_schema, NULL };

/* What one parse stored. */
struct parsed {
	const char *file, *out, *title;
	nidec_opt_rest rest;
	int force, verbose, runs, kind;
	double tr;
	nidec_opt_sets sets;
	nidec_sbuf text;
	nidec_err err;
	char *argv[32];    /* the parsed argv: `rest` points into it */
};

static int parse_v(struct parsed *p, int many, const char *const *args)
{
	char **argv = p->argv;
	int argc = 0, rc;
	nidec_opt opts[] = {
		NIDEC_OPT_ARG("FILE", &p->file, 0, "the input"),
		NIDEC_OPT_ARG("MORE", &p->rest, NIDEC_OPT_MANY | NIDEC_OPT_OPTIONAL, "more inputs"),
		NIDEC_OPT_STRING('o', "output", &p->out, "DIR", "out", "output directory"),
		NIDEC_OPT_STRING(0, "title", &p->title, "TEXT", NULL, "a title"),
		NIDEC_OPT_FLAG(0, "force", &p->force, "do it again"),
		NIDEC_OPT_COUNT('v', "verbose", &p->verbose, "more detail"),
		NIDEC_OPT_INT('n', "runs", &p->runs, "N", 1, 9999, "12", "runs, one file each"),
		NIDEC_OPT_DOUBLE(0, "tr", &p->tr, "SEC", 0, 1000, NIDEC_KEY_LO_OPEN, "seconds", "2.5",
				 "repetition time"),
		NIDEC_OPT_CHOICE(0, "datatype", &p->kind, "TYPE", kinds, "int16", "voxel type"),
		NIDEC_OPT_CONFIG(0, "checkpoint-interval", "output.checkpoint_interval", &p->sets, "SEC",
				 "seconds between syncs"),
		NIDEC_OPT_CONFIG(0, "hrf-shift", "data.hrf_shift", &p->sets, "SEC", "seconds added"),
		NIDEC_OPT_SET(&p->sets, "override a config key"),
		NIDEC_OPT_FLAG(0, "secret", &p->force, "not shown"),
		NIDEC_OPT_HELP(),
		NIDEC_OPT_END()
	};
	nidec_opt_cmd cmd = { "nidec test", "usage: nidec test FILE [options]\n", "Does things.\n",
			      "Exit status: 0 ok.\n", opts, schemas, 0 };

	opts[12].flags |= NIDEC_OPT_HIDDEN;
	if (!many)
		opts[1].flags &= ~NIDEC_OPT_MANY;
	argv[argc++] = (char *)"test";
	while (*args)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	rc = nidec_opt_parse(&cmd, argc, argv, &p->text, &p->err);
	/* borrowed strings still point into argv's strings */
	return rc;
}

static void init(struct parsed *p)
{
	memset(p, 0, sizeof(*p));
	p->runs = 12;
	p->sets = (nidec_opt_sets)NIDEC_OPT_SETS_INIT;
	p->text = (nidec_sbuf)NIDEC_SBUF_INIT;
	p->err = (nidec_err)NIDEC_ERR_INIT;
}

static void release(struct parsed *p)
{
	nidec_opt_sets_release(&p->sets);
	nidec_sbuf_release(&p->text);
}

#define PARSE(p, ...) parse_v((p), 1, (const char *const[]){ __VA_ARGS__, NULL })

/* Expect a usage error whose message contains `msg`. */
#define USAGE(want, ...)                                                                 \
	do {                                                                             \
		struct parsed q_;                                                        \
		init(&q_);                                                               \
		assert_int_equal(PARSE(&q_, __VA_ARGS__), NIDEC_EUSAGE);                 \
		if (!strstr(q_.err.msg, (want)))                                         \
			fail_msg("got '%s', wanted '%s'", q_.err.msg, (want));           \
		assert_null(strchr(q_.err.msg, '\n'));                                   \
		release(&q_);                                                            \
	} while (0)

static void test_base_opts__syntax(void **state)
{
	struct parsed p;

	(void)state;
	init(&p);
	assert_int_equal(PARSE(&p, "-vv", "--output=a b", "in.h5", "--runs", "7", "--tr=0.5", "-v",
			       "x1", "--title", "-2", "--", "--force"), 0);
	assert_int_equal(p.verbose, 3);
	assert_string_equal(p.out, "a b");
	assert_int_equal(p.runs, 7);
	assert_true(p.tr == 0.5);
	assert_string_equal(p.title, "-2"); /* a value may start with '-' */
	assert_string_equal(p.file, "in.h5");
	assert_int_equal(p.rest.argc, 2);   /* positional: x1 and, after --, --force */
	assert_string_equal(p.rest.argv[0], "x1");
	assert_string_equal(p.rest.argv[1], "--force");
	assert_int_equal(p.force, 0);
	release(&p);

	init(&p);
	assert_int_equal(PARSE(&p, "-oout", "-n3", "-", "--datatype", "float32", "--force"), 0);
	assert_string_equal(p.out, "out");
	assert_int_equal(p.runs, 3);
	assert_string_equal(p.file, "-"); /* a lone '-' is an argument */
	assert_int_equal(p.kind, 1);
	assert_int_equal(p.force, 1);
	assert_int_equal(p.rest.argc, 0);
	release(&p);
}

static void test_base_opts__missing_values(void **state)
{
	(void)state;
	USAGE("option '--checkpoint-interval' needs a value (seconds: a number in [0, 1e+09])",
	      "f", "--checkpoint-interval");
	USAGE("option '--runs' needs a value (a whole number from 1 to 9999)", "f", "--runs");
	USAGE("option '-n' needs a value (a whole number from 1 to 9999)", "f", "-n");
	USAGE("option '-o' needs a value (DIR)", "f", "-o");
	USAGE("option '--tr' needs a value (seconds: a number in (0, 1000])", "--tr");
	USAGE("option '--datatype' needs a value (one of: int16 float32)", "--datatype");
	USAGE("option '--set' needs a value (SEC.KEY=VAL)", "--set");
	USAGE("option '--hrf-shift' needs a value (seconds: a number in [-60, 60])", "--hrf-shift");
}

static void test_base_opts__bad_values(void **state)
{
	(void)state;
	USAGE("option '--runs' = 'x' is invalid; give a whole number from 1 to 9999", "--runs", "x");
	USAGE("option '--runs' = '1.5' is invalid", "--runs", "1.5");
	USAGE("option '--runs' = '0' is invalid", "--runs", "0");
	USAGE("option '--runs' = '10000' is invalid", "--runs", "10000");
	USAGE("option '-n' = '99999999999999999999' is invalid", "-n", "99999999999999999999");
	USAGE("option '--tr' = '0' is invalid; give a number in (0, 1000]", "--tr", "0");
	USAGE("option '--tr' = 'nan' is invalid", "--tr=nan");
	USAGE("option '--tr' = '1,5' is invalid", "--tr", "1,5");
	USAGE("option '--datatype' = 'float' is unknown; did you mean 'float32'?", "--datatype", "float");
	USAGE("--checkpoint-interval: [output] checkpoint_interval = '-1' is invalid; give a number in [0, 1e+09]",
	      "--checkpoint-interval", "-1");
	USAGE("--hrf-shift: [data] hrf_shift = '61' is invalid", "--hrf-shift=61");
	USAGE("--set 'cv.scheme': expected section.key=value", "--set", "cv.scheme");
	USAGE("--set cv.schem: unknown key 'schem' in [cv]; did you mean 'scheme' in [cv]?", "--set", "cv.schem=kfold");
	USAGE("--set cv.scoring: [cv] scoring = 'auc' is unknown; did you mean 'roc_auc'?", "--set=cv.scoring=auc");
	USAGE("--set modle.C: unknown section [modle]; did you mean [model]?", "--set", "modle.C=1");
	USAGE("option '--force' takes no value", "--force=yes");
}

static void test_base_opts__unknown_options(void **state)
{
	(void)state;
	USAGE("unknown option '--bogus'; see 'nidec test --help'", "f", "--bogus");
	USAGE("unknown option '--forse'; did you mean '--force'?", "--forse");
	/* hidden: parsed, never suggested */
	USAGE("option '--secret' takes no value", "--secret=1");
	USAGE("unknown option '--secre'; see 'nidec test --help'", "--secre");
	USAGE("unknown option '--scheme'; did you mean '--set cv.scheme=VALUE'?", "--scheme", "kfold");
	USAGE("unknown option '-x'; see 'nidec test --help'", "-vx");
	USAGE("missing FILE; usage: nidec test FILE [options]", "-v");
}

static void test_base_opts__positionals(void **state)
{
	struct parsed p;

	(void)state;
	init(&p);
	assert_int_equal(parse_v(&p, 0, (const char *const[]){ "a", "b", "c", NULL }), NIDEC_EUSAGE);
	assert_string_equal(p.err.msg, "unexpected argument 'c'; usage: nidec test FILE [options]");
	release(&p);
	init(&p);
	assert_int_equal(parse_v(&p, 0, (const char *const[]){ "a", NULL }), 0);
	release(&p);
}

/* Config overrides keep their order and the option as typed. */
static void test_base_opts__config_sets(void **state)
{
	struct parsed p;
	nidec_cfg cfg;
	nidec_err err = NIDEC_ERR_INIT;
	size_t i;

	(void)state;
	init(&p);
	assert_int_equal(PARSE(&p, "f", "--set", "cv.seed=3", "--checkpoint-interval", "5",
			       "--set=output.checkpoint_interval=7", "--hrf-shift", "-2"), 0);
	assert_int_equal((int)p.sets.n, 4);
	assert_string_equal(p.sets.assign[1], "output.checkpoint_interval=5");
	assert_string_equal(p.sets.option[1], "--checkpoint-interval");
	assert_string_equal(p.sets.assign[3], "data.hrf_shift=-2");
	nidec_cfg_init(&cfg);
	for (i = 0; i < p.sets.n; i++)
		assert_int_equal(nidec_cfg_override(&cfg, p.sets.assign[i], p.sets.option[i], &err), 0);
	assert_int_equal(nidec_cfg_finish(&cfg, &err), 0);
	assert_true(cfg.checkpoint_interval == 7); /* the later one */
	assert_true(cfg.hrf_shift == -2 && cfg.seed == 3);
	nidec_cfg_release(&cfg);
	release(&p);
}

static void test_base_opts__help_and_list(void **state)
{
	struct parsed p;
	const char *line;

	(void)state;
	init(&p);
	assert_int_equal(PARSE(&p, "--runs", "5", "--help", "--bogus"), NIDEC_OPT_SHOWN);
	assert_non_null(strstr(p.text.buf, "usage: nidec test FILE [options]\n\nDoes things.\n\n"));
	assert_non_null(strstr(p.text.buf, "  -o, --output DIR     output directory (default: out)\n"));
	assert_non_null(strstr(p.text.buf, "  -n, --runs N         runs, one file each (default: 12)\n"));
	assert_non_null(strstr(p.text.buf, "  --checkpoint-interval SEC\n"));
	assert_non_null(strstr(p.text.buf, "sets [output] checkpoint_interval\n                       (default: 30)\n"));
	assert_non_null(strstr(p.text.buf, "  FILE                 the input\n"));
	assert_non_null(strstr(p.text.buf, "  MORE...              more inputs\n"));
	assert_non_null(strstr(p.text.buf, "\nExit status: 0 ok.\n"));
	assert_null(strstr(p.text.buf, "secret"));
	for (line = p.text.buf; *line; line += strcspn(line, "\n") + 1)
		assert_true(strcspn(line, "\n") <= 80);
	release(&p);

	init(&p);
	assert_int_equal(PARSE(&p, "--list-options"), NIDEC_OPT_SHOWN);
	assert_non_null(strstr(p.text.buf, "--output\t-o\tstring\t-\t-\n"));
	assert_non_null(strstr(p.text.buf, "--runs\t-n\tint\t[1,9999]\t-\n"));
	assert_non_null(strstr(p.text.buf, "--tr\t-\tdouble\t(0,1000]\t-\n"));
	assert_non_null(strstr(p.text.buf, "--datatype\t-\tchoice\tint16|float32\t-\n"));
	assert_non_null(strstr(p.text.buf,
			       "--checkpoint-interval\t-\tdouble\t[0,1000000000]\toutput.checkpoint_interval\n"));
	assert_non_null(strstr(p.text.buf, "--set\t-\tset\t-\t-\n"));
	assert_non_null(strstr(p.text.buf, "--verbose\t-v\tcount\t-\t-\n"));
	assert_null(strstr(p.text.buf, "secret"));
	assert_null(strstr(p.text.buf, "FILE"));
	release(&p);
}

/* Storing an override can fail: out of memory, nothing leaked. */
static void test_base_opts__allocation_failures(void **state)
{
	long n;
	int failures = 0;

	(void)state;
	for (n = 1; n < 50; n++) {
		struct parsed p;
		int rc;
		init(&p);
		nidec_mem_fail_at(n);
		rc = PARSE(&p, "f", "--set", "cv.seed=1", "--hrf-shift", "2", "--help");
		nidec_mem_fail_at(0);
		release(&p);
		if (rc == NIDEC_OPT_SHOWN)
			break;
		assert_int_equal(rc, NIDEC_ENOMEM);
		failures++;
	}
	assert_true(failures >= 3);
	assert_true(n < 50);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base_opts__syntax),
		cmocka_unit_test(test_base_opts__missing_values),
		cmocka_unit_test(test_base_opts__bad_values),
		cmocka_unit_test(test_base_opts__unknown_options),
		cmocka_unit_test(test_base_opts__positionals),
		cmocka_unit_test(test_base_opts__config_sets),
		cmocka_unit_test(test_base_opts__help_and_list),
		cmocka_unit_test(test_base_opts__allocation_failures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
