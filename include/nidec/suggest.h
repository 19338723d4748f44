/*
 * suggest.h - "did you mean": how close a mistyped name is to a known one.
 *
 * One scorer for every suggestion nidec makes (config keys and sections,
 * enumerated values, options, commands), so they all behave alike.  Names
 * compare case-insensitively and with '-' equal to '_'.  From closest to
 * farthest, a candidate is suggested when the typed name
 *   - equals it (score 0: "Scheme", "leave_one_run_out");
 *   - is one of its words or its acronym (10: "auc" -> roc_auc,
 *     "loro" -> leave-one-run-out, "folds" -> n_folds);
 *   - is a prefix of it, 3 characters or more (20 + characters missing:
 *     "strat" -> stratified-kfold);
 *   - is a few edits away (30 + edits; insertions, deletions, substitutions
 *     and swaps of neighbours count 1): at most one edit up to 5
 *     characters, two up to 9, ... and always fewer edits than characters,
 *     so "svm" -> svc but neither "t_r" -> tol nor "auc" -> f1;
 *   - is as few edits away from one of its words (40 + edits: "gren" ->
 *     dark-green).
 * Callers add their own penalties (another section, a value instead of a
 * key) and keep the lowest score, ties to the first candidate.
 * Not collective; libc only.
 */
#ifndef NIDEC_SUGGEST_H
#define NIDEC_SUGGEST_H

/* Score of `candidate` for the mistyped `typed` (lower is closer), or -1
 * when it is too far to suggest.  Names of 63 characters or more are only
 * compared for equality, words and prefixes. */
int nidec_suggest_score(const char *typed, const char *candidate);

/* Keeps the best of several candidates:
 *     nidec_suggestion s = NIDEC_SUGGESTION_INIT;
 *     nidec_suggest_add(&s, typed, name, penalty, i);   for each candidate
 *     if (s.index >= 0) ... name of candidate s.index ...
 */
typedef struct nidec_suggestion {
	int score;  /* best score so far (with its penalty), -1 = none */
	long index; /* the caller's index of the best candidate, -1 = none */
} nidec_suggestion;

#define NIDEC_SUGGESTION_INIT { -1, -1 }

/* Consider `candidate` (the caller's number `index`) with `penalty` added to
 * its score; returns 1 if it is the best so far. */
int nidec_suggest_add(nidec_suggestion *s, const char *typed, const char *candidate, int penalty,
		      long index);

#endif
