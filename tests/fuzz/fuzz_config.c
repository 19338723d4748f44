/*
 * fuzz_config.c - libFuzzer target for the configuration reader
 * (src/base/cfg.c and keyfile.c over libinih): the input is loaded as an
 * INI file, then each of its lines is also applied as a `--set
 * section.key=value` override, and the result is finished (defaults,
 * parsing, validation) and dumped.  Any input must give 0 or a negative
 * NIDEC_E* code with a one-line message: never a crash, a sanitizer report
 * or a leak.
 * Seeds: tests/fuzz/seeds/config/ (the files of configs/).  Built by `make fuzz`.
 */
#include <string.h>

#include "fuzz_util.h"
#include "nidec/cfg.h"
#include "nidec/err.h"
#include "nidec/mem.h"
#include "nidec/sbuf.h"

static void check_err(int rc, const nidec_err *err)
{
	if (rc < 0 && (err->code != rc || !err->msg[0] || strchr(err->msg, '\n')))
		abort();
}

static void finish_and_dump(nidec_cfg *cfg)
{
	nidec_err err = NIDEC_ERR_INIT;
	nidec_sbuf sb = NIDEC_SBUF_INIT;
	int rc = nidec_cfg_finish(cfg, &err);

	check_err(rc, &err);
	if (rc == 0) {
		if (nidec_cfg_dump(cfg, &sb) < 0 || !sb.buf)
			abort();
		if (cfg->n_C == 0 || !cfg->dir)
			abort();
	}
	nidec_sbuf_release(&sb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file(data, size);
	nidec_err err = NIDEC_ERR_INIT;
	nidec_cfg cfg;
	char *text, *line, *save = NULL;
	int rc, n_set = 0;

	nidec_cfg_init(&cfg);
	rc = nidec_cfg_load(&cfg, path, &err);
	check_err(rc, &err);
	finish_and_dump(&cfg);
	nidec_cfg_release(&cfg);

	/* the same bytes as --set overrides, one per line (the first few: an
	 * unknown key costs a "did you mean" search over every key) */
	text = nidec_malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	nidec_cfg_init(&cfg);
	for (line = strtok_r(text, "\n", &save); line && n_set < 8;
	     line = strtok_r(NULL, "\n", &save), n_set++) {
		nidec_err_clear(&err);
		rc = nidec_cfg_set(&cfg, line, &err);
		check_err(rc, &err);
	}
	finish_and_dump(&cfg);
	nidec_cfg_release(&cfg);
	nidec_free(text);
	return 0;
}
