#!/usr/bin/python3
"""Make tests/oracle/nilearn-haxby-slice.json, the trimmed copy of the
reference that the end-to-end tests read (the project must not need
../shared at run time).

    /usr/bin/python3 tests/oracle/trim_reference.py \
        ../shared/reference/nilearn-haxby-slice.json tests/oracle/nilearn-haxby-slice.json

Kept: meta (versions, seeds, provenance), data, selection, every per-fold
score / chosen C / prediction / decision value of the tutorial steps a-g,
the face-vs-cat coef_ / intercept_ / std_coef of steps e-f, the nested
scikit-learn reference and the timings.  Dropped (size): the per-(problem,
fold) weight vectors and the 8-class coef_ matrix.  Values are copied
unchanged (json round-trips doubles exactly).
"""
import json
import sys

src, dst = sys.argv[1], sys.argv[2]
d = json.load(open(src))


def strip_ppf(dec):
    for e in dec.get("per_problem_fold", []):
        e.pop("coef", None)
    return dec


out = {
    "trimmed_from": "shared/reference/nilearn-haxby-slice.json (per-fold weight vectors dropped)",
    "meta": d["meta"],
    "data": d["data"],
    "selection": d["selection"],
}
for k in ("a_fit_all_predict_same", "b_holdout_last30", "d_cv5_accuracy", "e_loro"):
    v = d[k]
    strip_ppf(v["decoder"])
    out[k] = v
c = d["c_kfold5_fresh_decoder"]
for f in c["folds"]:
    f.pop("coef_", None)
out["c_kfold5_fresh_decoder"] = c
out["f_coef"] = d["f_coef"]
out["dummy_loro"] = d["dummy_loro"]
g = d["g_loro_8class"]
strip_ppf(g["decoder"])
g["decoder"].pop("coef_", None)
out["g_loro_8class"] = g
for k in ("nested_sklearn_face_cat", "nested_sklearn_8class", "sensitivity_e",
          "sensitivity_g_8class", "timings"):
    out[k] = d[k]
json.dump(out, open(dst, "w"), indent=1)
