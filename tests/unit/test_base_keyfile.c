/*
 * test_base_keyfile.c - the INI loader shared by the config and the sweep
 * file (keyfile.h) and the "did you mean" scorer (suggest.h): suggestions
 * for keys, sections and values, duplicates, ranges, origins and the exit
 * status they decide (a command-line value is a usage error).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "nidec/cfg.h"
#include "nidec/keyfile.h"
#include "nidec/mem.h"
#include "nidec/suggest.h"

static const nidec_key_name colours[] = {
	{ "red", 1 }, { "dark-green", 2 }, { "light_blue", 3 }, { NULL, 0 }
};

enum { K_NAME, K_COLOUR, K_COUNT, K_RATIO, K_GRID, K_SIZE, K_TAGS, N_KEYS };

/* A small schema: two sections, every type. */
static const nidec_key keys[N_KEYS] = {
	[K_NAME] = { "a", "name", NIDEC_KEY_STRING, "x", NULL, NULL, 0, 0, 0, NULL, NULL },
	[K_COLOUR] = { "a", "colour", NIDEC_KEY_ENUM, "red", "light_blue", colours, 0, 0, 0, NULL, NULL },
	[K_COUNT] = { "a", "count", NIDEC_KEY_INT, "3", NULL, NULL, 1, 10, 0, NULL, NULL },
	[K_RATIO] = { "b", "ratio", NIDEC_KEY_DOUBLE, "auto", NULL, NULL, 0, 1,
		      NIDEC_KEY_LO_OPEN | NIDEC_KEY_HI_OPEN | NIDEC_KEY_AUTO, "parts", NULL },
	[K_GRID] = { "b", "grid", NIDEC_KEY_DOUBLES, "1, 2", NULL, NULL, 0, HUGE_VAL, NIDEC_KEY_LO_OPEN,
		     NULL, NULL },
	[K_SIZE] = { "b", "size", NIDEC_KEY_DOUBLE, "1", NULL, NULL, 0, HUGE_VAL, 0, NULL, NULL },
	[K_TAGS] = { "b", "tags", NIDEC_KEY_LIST, "", NULL, NULL, 0, 0, 0, NULL, NULL },
};

static const nidec_keyschema schema = { "test file", keys, N_KEYS, "the manual", NULL, "a.count=2" };

static char *write_ini(const char *text)
{
	static char path[64];
	FILE *f;
	int fd;

	strcpy(path, "/tmp/nidec-keyfile-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

/* Load `text`; expect `code` and, if not 0, `msg` in the message. */
static void load_expect(const char *text, int code, const char *msg)
{
	nidec_keyfile kf;
	nidec_err err = NIDEC_ERR_INIT;
	char *path = write_ini(text);

	nidec_keyfile_init(&kf, &schema);
	assert_int_equal(nidec_keyfile_load(&kf, path, &err), code);
	if (msg && !strstr(err.msg, msg))
		fail_msg("'%s': got '%s', wanted '%s'", text, err.msg, msg);
	nidec_keyfile_release(&kf);
	unlink(path);
}

static void test_base_keyfile__suggest_scores(void **state)
{
	(void)state;
	/* equal but for case and '-' / '_' */
	assert_int_equal(nidec_suggest_score("Leave_One_Run_Out", "leave-one-run-out"), 0);
	/* a word, an acronym, a prefix */
	assert_int_equal(nidec_suggest_score("auc", "roc_auc"), 10);
	assert_int_equal(nidec_suggest_score("loro", "leave-one-run-out"), 10);
	assert_int_equal(nidec_suggest_score("strat", "stratified-kfold"), 20 + 9);
	assert_int_equal(nidec_suggest_score("schem", "scheme"), 21);
	/* a few edits, a swap counting one */
	assert_int_equal(nidec_suggest_score("svm", "svc"), 31);
	assert_int_equal(nidec_suggest_score("modle", "model"), 31);
	assert_int_equal(nidec_suggest_score("permutaions", "permutations"), 31);
	/* too far: nothing of the name is left */
	assert_int_equal(nidec_suggest_score("t_r", "tol"), -1);
	assert_int_equal(nidec_suggest_score("auc", "f1"), -1);
	assert_int_equal(nidec_suggest_score("x", "C"), -1);
	assert_int_equal(nidec_suggest_score("", "C"), -1);
}

static void test_base_keyfile__suggest_keeps_the_best(void **state)
{
	nidec_suggestion s = NIDEC_SUGGESTION_INIT;
	const char *cands[] = { "accuracy", "balanced_accuracy", "roc_auc", "f1" };
	long i;

	(void)state;
	for (i = 0; i < 4; i++)
		nidec_suggest_add(&s, "auc", cands[i], 0, i);
	assert_int_equal(s.index, 2);
	/* ties go to the first candidate; a penalty puts one behind */
	s = (nidec_suggestion)NIDEC_SUGGESTION_INIT;
	nidec_suggest_add(&s, "folds", "n_folds", 50, 0);
	nidec_suggest_add(&s, "folds", "inner_folds", 0, 1);
	nidec_suggest_add(&s, "folds", "outer_folds", 0, 2);
	assert_int_equal(s.index, 1);
}

static void test_base_keyfile__unknown_keys_and_sections(void **state)
{
	(void)state;
	load_expect("[a]\ncolor = red\n", NIDEC_EINPUT,
		    "unknown key 'color' in [a]; did you mean 'colour' in [a]?");
	/* a key of another section, when close */
	load_expect("[a]\nratio = 0.5\n", NIDEC_EINPUT, "did you mean 'ratio' in [b]?");
	/* a value of an enumerated key given as a key */
	load_expect("[a]\ndark_green = yes\n", NIDEC_EINPUT,
		    "unknown key 'dark_green' in [a]; did you mean 'colour = dark-green' in [a]?");
	/* nothing close: where every key is described */
	load_expect("[a]\nzz = 1\n", NIDEC_EINPUT, "unknown key 'zz' in [a]; see the manual for every key");
	load_expect("[bb]\nname = 1\n", NIDEC_EINPUT, "unknown section [bb]; did you mean [b]?");
	load_expect("[qq]\nname = 1\n", NIDEC_EINPUT, "unknown section [qq]; sections are [a] [b]");
	load_expect("name = 1\n", NIDEC_EINPUT, "key 'name' is outside any section; put it under [a] or [b]");
}

static void test_base_keyfile__duplicates_and_syntax(void **state)
{
	(void)state;
	load_expect("[a]\ncount = 1\n[b]\nsize = 2\n[a]\ncount = 2\n", NIDEC_EINPUT,
		    "key 'count' appears twice in [a]; keep one");
	load_expect("[a]\ncount 1\n", NIDEC_EINPUT, "line 2: cannot parse; expected '[section]'");
	load_expect("[a]\ncount = 1\nname = y\n[b]\nratio = auto\n", 0, NULL);
	{
		nidec_keyfile kf;
		nidec_err err = NIDEC_ERR_INIT;
		nidec_keyfile_init(&kf, &schema);
		assert_int_equal(nidec_keyfile_load(&kf, "/nonexistent/x.ini", &err), NIDEC_EIO);
		assert_non_null(strstr(err.msg, "cannot open test file '/nonexistent/x.ini'"));
		nidec_keyfile_release(&kf);
	}
}

static void test_base_keyfile__typed_values(void **state)
{
	nidec_keyfile kf;
	nidec_err err = NIDEC_ERR_INIT;
	char *name = NULL, **tags = NULL;
	size_t n_tags = 0, n_grid = 0;
	double ratio = 0, *grid = NULL;
	int colour = 0, count = 0;
	const char *path = write_ini("[a]\ncolour = dark-green\ncount = 10\n[b]\ngrid = 0.5,,2 , 4\n"
				     "tags = x, y\n");

	(void)state;
	nidec_keyfile_init(&kf, &schema);
	assert_int_equal(nidec_keyfile_load(&kf, path, &err), 0);
	assert_int_equal(nidec_keyfile_string(&kf, K_NAME, &name, &err), 0);
	assert_string_equal(name, "x"); /* the default */
	assert_int_equal(nidec_keyfile_enum(&kf, K_COLOUR, &colour, &err), 0);
	assert_int_equal(colour, 2);
	assert_int_equal(nidec_keyfile_int(&kf, K_COUNT, &count, &err), 0);
	assert_int_equal(count, 10);
	assert_int_equal(nidec_keyfile_double(&kf, K_RATIO, &ratio, &err), 0);
	assert_true(isnan(ratio)); /* auto */
	assert_int_equal(nidec_keyfile_doubles(&kf, K_GRID, &grid, &n_grid, &err), 0);
	assert_true(n_grid == 3 && grid[0] == 0.5 && grid[1] == 2 && grid[2] == 4);
	assert_int_equal(nidec_keyfile_list(&kf, K_TAGS, &tags, &n_tags, &err), 0);
	assert_true(n_tags == 2 && !strcmp(tags[0], "x") && !strcmp(tags[1], "y"));
	assert_true(nidec_keyfile_is_set(&kf, K_COUNT));
	assert_false(nidec_keyfile_is_set(&kf, K_NAME));
	assert_false(nidec_keyfile_from_cli(&kf, K_COUNT));
	assert_string_equal(nidec_keyfile_origin(&kf, K_NAME), "default");
	/* the alternative defaults */
	kf.alt = 1;
	assert_string_equal(nidec_keyfile_value(&kf, K_COLOUR), "dark-green"); /* given */
	nidec_free(name);
	nidec_free(grid);
	nidec_strv_free(tags, n_tags);
	nidec_keyfile_release(&kf);
	assert_null(kf.val);
	nidec_keyfile_init(&kf, &schema);
	kf.alt = 1;
	assert_string_equal(nidec_keyfile_value(&kf, K_COLOUR), "light_blue");
	nidec_keyfile_release(&kf);
	unlink(path);
}

/* Bad values: the message, and the code by origin (file 1, command line 2). */
static void test_base_keyfile__bad_values_by_origin(void **state)
{
	static const char *const bad[][2] = {
		{ "a.colour=gren", "[a] colour = 'gren' is unknown; did you mean 'dark-green'? (use one of: red dark-green light_blue)" },
		{ "a.colour=purple", "[a] colour = 'purple' is unknown; use one of: red dark-green light_blue" },
		{ "a.count=0", "[a] count = '0' is invalid; give a whole number from 1 to 10" },
		{ "a.count=2.5", "give a whole number from 1 to 10" },
		{ "a.count=", "give a whole number from 1 to 10" },
		{ "b.ratio=1", "[b] ratio = '1' is invalid; give auto or a number in (0, 1)" },
		{ "b.ratio=nan", "give auto or a number in (0, 1)" },
		{ "b.size=-1", "give a number >= 0" },
		{ "b.size=1e999", "give a number >= 0" },
		{ "b.grid=1, 0", "[b] grid: '0' is not a number > 0; give a list such as grid = 1, 2" },
		{ "b.grid= , ", "[b] grid = ' , ' is invalid; give at least one value, e.g. grid = 1, 2" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		nidec_keyfile kf;
		nidec_err err = NIDEC_ERR_INIT;
		const char *eq = strchr(bad[i][0], '='), *dot = strchr(bad[i][0], '.');
		char sec[8], key[16], text[64];
		double d;
		long k;
		int v, rc;

		snprintf(sec, sizeof(sec), "%.*s", (int)(dot - bad[i][0]), bad[i][0]);
		snprintf(key, sizeof(key), "%.*s", (int)(eq - dot - 1), dot + 1);
		k = nidec_keyschema_find(&schema, sec, key);
		assert_true(k >= 0);
		/* from the command line: the parser's check and the getter agree */
		assert_int_equal(nidec_keyschemas_check_set((const nidec_keyschema *const[]){ &schema, NULL },
							    bad[i][0], "--set", &err), NIDEC_EUSAGE);
		if (!strstr(err.msg, bad[i][1]))
			fail_msg("check %s: got '%s', wanted '%s'", bad[i][0], err.msg, bad[i][1]);
		nidec_keyfile_init(&kf, &schema);
		assert_int_equal(nidec_keyfile_set(&kf, bad[i][0], NULL, &err), 0);
		assert_true(nidec_keyfile_from_cli(&kf, (size_t)k));
		rc = kf.schema->keys[k].type == NIDEC_KEY_ENUM ? nidec_keyfile_enum(&kf, (size_t)k, &v, &err)
		     : kf.schema->keys[k].type == NIDEC_KEY_INT ? nidec_keyfile_int(&kf, (size_t)k, &v, &err)
		     : kf.schema->keys[k].type == NIDEC_KEY_DOUBLES ? nidec_keyfile_doubles(&kf, (size_t)k, NULL, NULL, &err)
		     : nidec_keyfile_double(&kf, (size_t)k, &d, &err);
		assert_int_equal(rc, NIDEC_EUSAGE);
		assert_non_null(strstr(err.msg, bad[i][1]));
		assert_non_null(strstr(err.msg, "--set "));
		nidec_keyfile_release(&kf);
		/* from a file: a bad input */
		snprintf(text, sizeof(text), "[%s]\n%s = %s\n", sec, key, eq + 1);
		{
			char *path = write_ini(text);
			nidec_keyfile_init(&kf, &schema);
			assert_int_equal(nidec_keyfile_load(&kf, path, &err), 0);
			rc = kf.schema->keys[k].type == NIDEC_KEY_ENUM ? nidec_keyfile_enum(&kf, (size_t)k, &v, &err)
			     : kf.schema->keys[k].type == NIDEC_KEY_INT ? nidec_keyfile_int(&kf, (size_t)k, &v, &err)
			     : kf.schema->keys[k].type == NIDEC_KEY_DOUBLES ? nidec_keyfile_doubles(&kf, (size_t)k, NULL, NULL, &err)
			     : nidec_keyfile_double(&kf, (size_t)k, &d, &err);
			assert_int_equal(rc, NIDEC_EINPUT);
			assert_non_null(strstr(err.msg, "test file '"));
			nidec_keyfile_release(&kf);
			unlink(path);
		}
	}
}

/* --set against several schemas (the sweep's and the config's). */
static void test_base_keyfile__check_set(void **state)
{
	const nidec_keyschema *both[] = { &nidec_cfg_schema, &schema, NULL };
	nidec_err err = NIDEC_ERR_INIT;
	long before;

	(void)state;
	before = nidec_mem_count();
	assert_int_equal(nidec_keyschemas_check_set(both, "cv.scheme=kfold", "--set", &err), 0);
	assert_int_equal(nidec_keyschemas_check_set(both, "b.grid=1,2,3", "--set", &err), 0);
	assert_int_equal(nidec_mem_count(), before); /* checking allocates nothing */
	assert_int_equal(nidec_keyschemas_check_set(both, "cv.scheme", "--set", &err), NIDEC_EUSAGE);
	assert_string_equal(err.msg, "--set 'cv.scheme': expected section.key=value, e.g. --set cv.scheme=kfold");
	assert_int_equal(nidec_keyschemas_check_set(both, "cv.schem=kfold", "--set", &err), NIDEC_EUSAGE);
	assert_string_equal(err.msg, "--set cv.schem: unknown key 'schem' in [cv]; did you mean 'scheme' in [cv]?");
	assert_int_equal(nidec_keyschemas_check_set(both, "bb.grid=1", "--set", &err), NIDEC_EUSAGE);
	assert_non_null(strstr(err.msg, "unknown section [bb]; did you mean [b]?"));
	assert_int_equal(nidec_keyschemas_check_set(both, "cv.n_folds=1", "--set", &err), NIDEC_EUSAGE);
	assert_string_equal(err.msg, "--set cv.n_folds: [cv] n_folds = '1' is invalid; give a whole number from 2 to 100000");
}

static void test_base_keyfile__describe(void **state)
{
	char buf[128];

	(void)state;
	assert_string_equal(nidec_key_describe(&keys[K_COUNT], buf, sizeof(buf)), "a whole number from 1 to 10");
	assert_string_equal(nidec_key_describe(&keys[K_RATIO], buf, sizeof(buf)), "auto or a number in (0, 1)");
	assert_string_equal(nidec_key_describe(&keys[K_SIZE], buf, sizeof(buf)), "a number >= 0");
	assert_string_equal(nidec_key_describe(&keys[K_GRID], buf, sizeof(buf)),
			    "a comma-separated list of numbers > 0");
	assert_string_equal(nidec_key_describe(&keys[K_COLOUR], buf, sizeof(buf)),
			    "one of: red dark-green light_blue");
}

/* The analysis config's own cases from issue 15. */
static void test_base_keyfile__config_suggestions(void **state)
{
	static const char *const cases[][2] = {
		{ "[cv]\nscoring = auc\n", "[cv] scoring = 'auc' is unknown; did you mean 'roc_auc'?" },
		{ "[cv]\nscheme = loro\n", "did you mean 'leave-one-run-out'?" },
		{ "[cv]\nscheme = Stratified_KFold\n", "did you mean 'stratified-kfold'?" },
		/* t_r is a [clean] key (issue 17): found in its section; a name
		 * near no key gets no suggestion (not "tol") */
		{ "[preprocess]\nt_r = 2\n", "unknown key 't_r' in [preprocess]; did you mean 't_r' in [clean]?" },
		{ "[preprocess]\nqq = 2\n", "unknown key 'qq' in [preprocess]; see configs/default.ini for every key" },
		{ "[cv]\nnilearn = yes\n", "did you mean 'compat = nilearn' in [cv]?" },
		{ "[model]\nestimator = logistic-l1\n", "did you mean 'logistic_l1'?" },
		{ "[cv]\nfolds = 3\n", "did you mean 'n_folds' in [cv]?" },
		{ "[output]\nreport = ture\n", "did you mean 'true'?" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		nidec_cfg cfg;
		nidec_err err = NIDEC_ERR_INIT;
		const char *path = write_ini(cases[i][0]);
		int rc;
		nidec_cfg_init(&cfg);
		rc = nidec_cfg_load(&cfg, path, &err);
		if (rc == 0)
			rc = nidec_cfg_finish(&cfg, &err);
		assert_int_equal(rc, NIDEC_EINPUT);
		if (!strstr(err.msg, cases[i][1]))
			fail_msg("%s: got '%s', wanted '%s'", cases[i][0], err.msg, cases[i][1]);
		assert_null(strstr(err.msg, "'tol'"));
		nidec_cfg_release(&cfg);
		unlink(path);
	}
}

/* A bad value is a usage error when the command line gave it; a rule
 * between keys is an error of the configuration wherever they came from. */
static void test_base_keyfile__errors_by_origin(void **state)
{
	nidec_cfg cfg;
	nidec_err err = NIDEC_ERR_INIT;
	const char *path = write_ini("[cv]\ninner_scheme = none\n");

	(void)state;
	nidec_cfg_init(&cfg);
	assert_int_equal(nidec_cfg_load(&cfg, path, &err), 0);
	assert_int_equal(nidec_cfg_finish(&cfg, &err), NIDEC_EINPUT);
	assert_int_equal(nidec_cfg_override(&cfg, "cv.selection=nested", "--selection", &err), 0);
	assert_int_equal(nidec_cfg_finish(&cfg, &err), NIDEC_EINPUT);
	assert_non_null(strstr(err.msg, "selection = nested needs an inner scheme"));
	assert_int_equal(nidec_cfg_override(&cfg, "cv.inner_scheme=auto", "--set", &err), 0);
	/* an option's value names the option */
	assert_int_equal(nidec_cfg_override(&cfg, "output.checkpoint_interval=-1", "--checkpoint-interval",
					    &err), 0);
	assert_int_equal(nidec_cfg_finish(&cfg, &err), NIDEC_EUSAGE);
	assert_string_equal(err.msg, "--checkpoint-interval: [output] checkpoint_interval = '-1' is invalid; give a number in [0, 1e+09]");
	nidec_cfg_release(&cfg);
	unlink(path);
}

/* Every failing allocation while loading leaks nothing and says so. */
static void test_base_keyfile__allocation_failures(void **state)
{
	const char *path = write_ini("[a]\nname = n\ncount = 2\n[b]\ngrid = 1, 2, 3\ntags = p, q\n");
	long n;
	int failures = 0;

	(void)state;
	for (n = 1; n < 100; n++) {
		nidec_keyfile kf;
		nidec_err err = NIDEC_ERR_INIT;
		double *grid = NULL;
		char **tags = NULL;
		size_t n_grid = 0, n_tags = 0;
		int rc;
		nidec_keyfile_init(&kf, &schema);
		nidec_mem_fail_at(n);
		rc = nidec_keyfile_load(&kf, path, &err);
		if (rc == 0)
			rc = nidec_keyfile_set(&kf, "a.count=4", NULL, &err);
		if (rc == 0)
			rc = nidec_keyfile_doubles(&kf, K_GRID, &grid, &n_grid, &err);
		if (rc == 0)
			rc = nidec_keyfile_list(&kf, K_TAGS, &tags, &n_tags, &err);
		nidec_mem_fail_at(0);
		nidec_free(grid);
		nidec_strv_free(tags, n_tags);
		nidec_keyfile_release(&kf);
		if (rc == 0)
			break;
		assert_int_equal(rc, NIDEC_ENOMEM);
		assert_non_null(strstr(err.msg, "out of memory"));
		failures++;
	}
	assert_true(failures > 5);
	assert_true(n < 100);
	unlink(path);
}

/* issue 20: lines of any length (Debian's libinih cut them at 200 bytes),
 * NUL bytes, a directory, continuation lines, libinih's comment rules. */
static void test_base_keyfile__lines_of_any_length(void **state)
{
	nidec_keyfile kf;
	nidec_err err = NIDEC_ERR_INIT;
	char text[40000], *path;
	double *grid = NULL;
	size_t n_grid = 0, i, len;
	FILE *f;

	(void)state;
	len = (size_t)snprintf(text, sizeof(text), "[b]\ngrid = ");
	for (i = 0; i < 3000; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%s%zu.5", i ? ", " : "", i);
	snprintf(text + len, sizeof(text) - len, "\n[a]\nname = %0500d\n", 7);
	path = write_ini(text);
	nidec_keyfile_init(&kf, &schema);
	assert_int_equal(nidec_keyfile_load(&kf, path, &err), 0);
	assert_int_equal(nidec_keyfile_doubles(&kf, K_GRID, &grid, &n_grid, &err), 0);
	assert_int_equal(n_grid, 3000);
	assert_true(grid[2999] == 2999.5);
	assert_int_equal(strlen(nidec_keyfile_value(&kf, K_NAME)), 500);
	nidec_free(grid);
	nidec_keyfile_release(&kf);
	unlink(path);

	/* libinih's rules: ':' separates, ';' after a blank starts a comment,
	 * '#' and ';' start comment lines, CRLF and a BOM are fine */
	load_expect("\xef\xbb\xbf[a]\r\n  count = 4\r\nname: a;b ; comment\r\n# c\n; d\n", 0, NULL);
	/* a continuation line says what it is (it was "appears twice") */
	load_expect("[a]\nname = x\n  y\n", NIDEC_EINPUT,
		    "line 3: an indented line continues the value of 'name' (an INI continuation line)");
	load_expect("[a\nname = x\n", NIDEC_EINPUT, "line 1: cannot parse");

	/* a NUL byte: an error naming the line, not a file cut short */
	path = write_ini("");
	f = fopen(path, "wb");
	assert_non_null(f);
	fwrite("[a]\nname = x\ncou\0nt = 3\n", 1, 24, f);
	fclose(f);
	nidec_keyfile_init(&kf, &schema);
	assert_int_equal(nidec_keyfile_load(&kf, path, &err), NIDEC_EINPUT);
	assert_non_null(strstr(err.msg, "line 3: a NUL byte"));
	nidec_keyfile_release(&kf);
	unlink(path);

	/* a directory is no config (it ran with the defaults) */
	nidec_keyfile_init(&kf, &schema);
	assert_int_equal(nidec_keyfile_load(&kf, "/tmp", &err), NIDEC_EINPUT);
	assert_non_null(strstr(err.msg, "test file '/tmp' is a directory; give the path of an INI file"));
	nidec_keyfile_release(&kf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base_keyfile__suggest_scores),
		cmocka_unit_test(test_base_keyfile__suggest_keeps_the_best),
		cmocka_unit_test(test_base_keyfile__unknown_keys_and_sections),
		cmocka_unit_test(test_base_keyfile__duplicates_and_syntax),
		cmocka_unit_test(test_base_keyfile__lines_of_any_length),
		cmocka_unit_test(test_base_keyfile__typed_values),
		cmocka_unit_test(test_base_keyfile__bad_values_by_origin),
		cmocka_unit_test(test_base_keyfile__check_set),
		cmocka_unit_test(test_base_keyfile__describe),
		cmocka_unit_test(test_base_keyfile__config_suggestions),
		cmocka_unit_test(test_base_keyfile__errors_by_origin),
		cmocka_unit_test(test_base_keyfile__allocation_failures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
