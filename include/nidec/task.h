/*
 * task.h - run one task of a plan (src/core/task.c): the training part's
 * standardisation and screening, every binary problem and C of the grid
 * with warm starts, and the scores and decisions on the test samples.
 * A pure function of (plan, task id, the prepared data): the solver's
 * seed comes from the task, never from the rank (plan.h "Determinism").
 * Not collective, not thread-safe (the plan's scratch memory is reused).
 */
#ifndef NIDEC_TASK_H
#define NIDEC_TASK_H

#include <stddef.h>

#include "nidec/err.h"
#include "nidec/plan.h"
#include "nidec/result.h"

/* Run one task.  On success *res is a new result (free with
 * nidec_result_free).  A numerical failure inside the task is a result with
 * a status, not an error of this call.  Memory (svc, dcd): the task's
 * training rows in the solver's form (float32 rows, or a Gram matrix and
 * double rows), the standardised test rows in double, and the result. */
int nidec_task_run(const nidec_plan *plan, size_t t, nidec_result **res, nidec_err *err);

#endif
