/*
 * suggest.c - the "did you mean" scorer (see include/nidec/suggest.h).
 *
 * Why not plain edit distance: the old loaders suggested the candidate
 * with the fewest edits, so `scoring = auc` got `f1` (3 edits) rather than
 * `roc_auc` (4 insertions), and `[preprocess] t_r` got `tol` from [model]
 * (2 edits of 3 characters: nothing of the name is left).  A user types a
 * word of the name, its acronym or its beginning far more often than a
 * random string a few edits away, so those come first, and edits are
 * only trusted while they change a small part of the name.
 * Depends on libc only.
 */
#include <ctype.h>
#include <string.h>

#include "nidec/suggest.h"

/* Case and '-' / '_' do not matter. */
static int norm(int c)
{
	c = tolower((unsigned char)c);
	return c == '-' ? '_' : c;
}

static int is_sep(int c)
{
	return c == '-' || c == '_' || c == '.';
}

static int equal_norm(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (norm(a[i]) != norm(b[i]))
			return 0;
	return 1;
}

/* Is `typed` one of the words of `cand` ("auc" in "roc_auc")? */
static int is_word(const char *typed, size_t lt, const char *cand)
{
	const char *p = cand;

	if (!strpbrk(cand, "-_."))
		return 0;
	while (*p) {
		size_t n = 0;
		while (p[n] && !is_sep(p[n]))
			n++;
		if (n == lt && equal_norm(typed, p, n))
			return 1;
		p += n;
		while (*p && is_sep(*p))
			p++;
	}
	return 0;
}

/* Is `typed` the initials of the words of `cand` ("loro")? */
static int is_acronym(const char *typed, size_t lt, const char *cand)
{
	const char *p = cand;
	size_t k = 0, words = 0;

	while (*p) {
		if (k >= lt || norm(*p) != norm(typed[k]))
			return 0;
		k++;
		words++;
		while (*p && !is_sep(*p))
			p++;
		while (*p && is_sep(*p))
			p++;
	}
	return words >= 2 && k == lt;
}

/* Optimal string alignment distance (edits and swaps of neighbours). */
static size_t distance(const char *a, size_t la, const char *b, size_t lb)
{
	size_t d[64][64], i, j;

	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			size_t best = d[i - 1][j - 1] + (norm(a[i - 1]) != norm(b[j - 1]));
			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && norm(a[i - 1]) == norm(b[j - 2]) &&
			    norm(a[i - 2]) == norm(b[j - 1]) && d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[la][lb];
}

/* Fewest edits from `typed` to one of the words of `cand` (99: none). */
static size_t word_distance(const char *typed, size_t lt, const char *cand)
{
	const char *p = cand;
	size_t best = 99;

	if (!strpbrk(cand, "-_."))
		return best;
	while (*p) {
		size_t n = 0, d;
		while (p[n] && !is_sep(p[n]))
			n++;
		if (n >= 2 && n < 63 && (d = distance(typed, lt, p, n)) < best)
			best = d;
		p += n;
		while (*p && is_sep(*p))
			p++;
	}
	return best;
}

int nidec_suggest_score(const char *typed, const char *cand)
{
	size_t lt = strlen(typed), lc = strlen(cand), limit, d;

	if (lt == 0 || lc == 0)
		return -1;
	if (lt == lc && equal_norm(typed, cand, lt))
		return 0;
	if (lt >= 2 && (is_word(typed, lt, cand) || is_acronym(typed, lt, cand)))
		return 10;
	if (lt >= 3 && lt < lc && equal_norm(typed, cand, lt))
		return 20 + (int)(lc - lt < 9 ? lc - lt : 9);
	if (lt >= 63 || lc >= 63)
		return -1;
	/* one edit up to 5 characters, two up to 9, three up to 13, ... */
	limit = (lt + 2) / 4;
	if (limit < 1)
		limit = 1;
	d = distance(typed, lt, cand, lc);
	if (d <= limit && d < lt)
		return 30 + (int)d;
	/* a word of it, mistyped ("gren" -> dark-green) */
	d = word_distance(typed, lt, cand);
	if (d <= limit && d < lt)
		return 40 + (int)d;
	return -1;
}

int nidec_suggest_add(nidec_suggestion *s, const char *typed, const char *cand, int penalty,
		      long index)
{
	int score = nidec_suggest_score(typed, cand);

	if (score < 0)
		return 0;
	score += penalty;
	if (s->score >= 0 && score >= s->score)
		return 0;
	s->score = score;
	s->index = index;
	return 1;
}
