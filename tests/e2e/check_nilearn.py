#!/usr/bin/python3
"""Compare a nidec output directory with nilearn's numbers for one tutorial
step (tests/oracle/nilearn-haxby-slice.json, a trimmed copy of
../shared/reference/nilearn-haxby-slice.json made by
tests/oracle/trim_reference.py).

    check_nilearn.py ORACLE.json STEP OUTDIR [REFERENCE_WEIGHTS.nii.gz MASK.nii.gz]

STEP is a, b, c, d, e or g (semantics doc section 12).  Exits 1 with a
message naming the first difference.

Tolerances, and why:
  - scores: 1e-12 absolute.  They are ratios of small integers (AUC = 70/81,
    accuracy = 25/30), so anything but rounding is a real difference.
  - chosen C: exact.
  - predicted labels: exact.
  - decision values: 1e-4 absolute.  liblinear stops at tol 1e-4 on the dual
    gradient and shuffles coordinates with rand(); nilearn's own runs differ
    by up to 4.6e-7 in the weights between seeds (reference sensitivity_e),
    so decision values agree to about 1e-5, not to the last digit.
  - weight map: Pearson r >= 0.999 with nilearn's map (the file is written
    as scaled int16 by nilearn, +-2e-6), and max |diff| <= 1e-4 against the
    float coef_ of the reference.
"""
import csv
import json
import math
import sys

SCORE_TOL = 1e-12
DEC_TOL = 1e-4


def fail(msg):
    print(f"check_nilearn: {msg}", file=sys.stderr)
    sys.exit(1)


def read_tsv(path):
    with open(path) as f:
        return list(csv.DictReader(f, delimiter="\t"))


def scores_by_key(outdir):
    rows = read_tsv(f"{outdir}/scores.tsv")
    out = {}
    for r in rows:
        out.setdefault(r["class"], []).append(r)
    for k in out:
        out[k].sort(key=lambda r: int(r["fold"]))
    return out


def check_scores(outdir, ref_scores, ref_C=None, keys=None):
    got = scores_by_key(outdir)
    for key, ref in ref_scores.items():
        if keys and key not in keys:
            continue
        if key not in got:
            fail(f"scores.tsv has no class '{key}' (has {sorted(got)})")
        rows = got[key]
        if len(rows) != len(ref):
            fail(f"class {key}: {len(rows)} folds, nilearn {len(ref)}")
        for f, (r, s) in enumerate(zip(rows, ref)):
            if abs(float(r["score"]) - s) > SCORE_TOL:
                fail(f"class {key} fold {f}: score {r['score']}, nilearn {s!r}")
            if ref_C is not None and float(r["C"]) != ref_C[key][f]:
                fail(f"class {key} fold {f}: C {r['C']}, nilearn {ref_C[key][f]}")
    return got


def predictions(outdir):
    rows = read_tsv(f"{outdir}/predictions.tsv")
    return rows


def check_predictions(rows, ref_pred, ref_dec, what):
    if len(rows) != len(ref_pred):
        fail(f"{what}: {len(rows)} predictions, nilearn {len(ref_pred)}")
    worst = 0.0
    for i, (r, p, d) in enumerate(zip(rows, ref_pred, ref_dec)):
        if r["predicted"] != p:
            fail(f"{what}: prediction {i} (sample {r['sample']}) is {r['predicted']}, nilearn {p}")
        worst = max(worst, abs(float(r["decision"]) - d))
    if worst > DEC_TOL:
        fail(f"{what}: decision values differ by up to {worst:.3g} (> {DEC_TOL})")
    return worst


def check_weights(outdir, ref, ref_nii, mask_nii):
    import nibabel
    import numpy as np

    img = nibabel.load(f"{outdir}/weights_face.nii.gz")
    if img.get_data_dtype() != np.float32:
        fail(f"weights_face.nii.gz is {img.get_data_dtype()}, expected float32")
    w = np.asanyarray(img.dataobj).astype(np.float64)
    refimg = nibabel.load(ref_nii)
    rw = np.asanyarray(refimg.dataobj).astype(np.float64)
    if w.shape != rw.shape or not np.allclose(img.affine, refimg.affine, atol=1e-4):
        fail(f"weights_face.nii.gz grid {w.shape} differs from nilearn's {rw.shape}")
    # nilearn's file is scaled int16: off-mask voxels read back as -9e-8
    inside = np.asanyarray(nibabel.load(mask_nii).dataobj) != 0
    if np.any(w[~inside] != 0):
        fail("weights_face.nii.gz is not zero outside the mask")
    r = np.corrcoef(w[inside], rw[inside])[0, 1]
    if not r >= 0.999:
        fail(f"weights_face.nii.gz correlates with nilearn's map at r = {r:.6f} < 0.999")
    # against nilearn's float coef_ (coef_img_['face'] = -coef_, section 6),
    # in-mask voxels in C order (nilearn's feature order)
    coef = -np.array(ref["f_coef"]["coef_"])
    if inside.sum() != len(coef):
        fail(f"{inside.sum()} mask voxels, nilearn has {len(coef)} weights")
    diff = np.max(np.abs(w[inside] - coef))
    if diff > DEC_TOL:
        fail(f"weights_face differ from nilearn's -coef_ by up to {diff:.3g} (> {DEC_TOL})")
    return r, diff


def check_inner(outdir, what, fold, inner_scores, inner_C):
    """A Decoder inside an outer fold: scores.tsv's inner_score is the mean
    of nilearn's inner cv_scores_, C the common inner pick (nan if the inner
    folds disagree)."""
    import numpy as np

    got = scores_by_key(outdir)
    summary = json.load(open(f"{outdir}/summary.json"))
    want_C = inner_C[0] if len(set(inner_C)) == 1 else float("nan")
    for key in ("cat", "face"):
        ic = summary["scores"][key]["inner_C"][fold][:len(inner_C)]
        isc = summary["scores"][key]["inner_fold_scores"][fold][:len(inner_scores)]
        if ic != inner_C:
            fail(f"{what} class {key}: inner C picks {ic}, nilearn {inner_C}")
        if max(abs(a - b) for a, b in zip(isc, inner_scores)) > SCORE_TOL:
            fail(f"{what} class {key}: inner fold scores {isc}, nilearn {inner_scores}")
        r = got[key][fold]
        mean = float(np.mean(np.array(inner_scores)))
        if abs(float(r["inner_score"]) - mean) > SCORE_TOL:
            fail(f"{what} class {key}: inner_score {r['inner_score']}, nilearn mean cv_scores_ {mean!r}")
        c = float(r["C"])
        if not (c == want_C or (math.isnan(c) and math.isnan(want_C))):
            fail(f"{what} class {key}: C {r['C']}, nilearn's inner picks {inner_C}")


def main():
    oracle, step, outdir = sys.argv[1], sys.argv[2], sys.argv[3]
    ref = json.load(open(oracle))
    summary = json.load(open(f"{outdir}/summary.json"))
    if step == "a":
        s = ref["a_fit_all_predict_same"]
        acc = summary["multiclass_accuracy"]
        if abs(acc - s["train_accuracy"]) > SCORE_TOL:
            fail(f"training accuracy {acc}, nilearn {s['train_accuracy']}")
        worst = check_predictions(predictions(outdir), s["predictions"], s["decision_function"], "step a")
        check_inner(outdir, "step a", 0, s["decoder"]["cv_scores_"]["face"], s["decoder"]["cv_params_"]["face"]["C"])
        print(f"step a: accuracy {acc} (nilearn {s['train_accuracy']}), inner scores and C, 216 predictions equal, "
              f"decision values within {worst:.2g}")
    elif step == "b":
        s = ref["b_holdout_last30"]
        acc = summary["multiclass_accuracy"]
        if abs(acc - s["accuracy"]) > SCORE_TOL:
            fail(f"hold-out accuracy {acc}, nilearn {s['accuracy']}")
        worst = check_predictions(predictions(outdir), s["predictions"], s["decision_function"], "step b")
        check_inner(outdir, "step b", 0, s["decoder"]["cv_scores_"]["face"], s["decoder"]["cv_params_"]["face"]["C"])
        print(f"step b: accuracy {acc} (nilearn {s['accuracy']}), inner scores and C, 30 predictions equal, "
              f"decision values within {worst:.2g}")
    elif step == "c":
        s = ref["c_kfold5_fresh_decoder"]
        rows = predictions(outdir)
        worst = 0.0
        for f, fold in enumerate(s["folds"]):
            fr = [r for r in rows if int(r["fold"]) == f]
            acc = sum(r["predicted"] == r["true"] for r in fr) / len(fr)
            if abs(summary["accuracy"]["folds"][f] - fold["accuracy"]) > SCORE_TOL:
                fail(f"fold {f}: summary.json accuracy {summary['accuracy']['folds'][f]}, nilearn {fold['accuracy']}")
            if abs(acc - fold["accuracy"]) > SCORE_TOL:
                fail(f"fold {f}: accuracy {acc}, nilearn {fold['accuracy']}")
            if [int(r["sample"]) for r in fr] != fold["test_indices"]:
                fail(f"fold {f}: test samples differ from nilearn's KFold")
            worst = max(worst, check_predictions(fr, fold["predictions"], fold["decision_function"],
                                                 f"step c fold {f}"))
            check_inner(outdir, f"step c fold {f}", f, fold["inner_cv_scores_face"], fold["inner_cv_C_face"])
        print(f"step c: 5 fold accuracies, inner scores and C, 216 predictions equal, decision values within {worst:.2g}")
    elif step == "d":
        d = ref["d_cv5_accuracy"]["decoder"]
        check_scores(outdir, d["cv_scores_"], {k: v["C"] for k, v in d["cv_params_"].items()})
        print("step d: 5 fold accuracies and C equal (both keys)")
    elif step == "e":
        d = ref["e_loro"]["decoder"]
        check_scores(outdir, d["cv_scores_"], {k: v["C"] for k, v in d["cv_params_"].items()})
        m = summary["scores"]["face"]["mean"]
        if abs(m - ref["e_loro"]["mean_cv_score_face"]) > SCORE_TOL:
            fail(f"mean face score {m}, nilearn {ref['e_loro']['mean_cv_score_face']}")
        r, diff = check_weights(outdir, ref, sys.argv[4], sys.argv[5]) if len(sys.argv) > 5 else (float("nan"),) * 2
        print(f"step e: 12 fold AUCs and C equal, mean {m}; weights_face r = {r:.6f} with nilearn's map, "
              f"max |w + coef_| = {diff:.2g}")
    elif step == "g":
        d = ref["g_loro_8class"]["decoder"]
        check_scores(outdir, d["cv_scores_"], {k: v["C"] for k, v in d["cv_params_"].items()})
        for k, v in ref["g_loro_8class"]["mean_cv_score_per_class"].items():
            if abs(summary["scores"][k]["mean"] - v) > 1e-9:
                fail(f"class {k}: mean {summary['scores'][k]['mean']}, nilearn {v}")
        print("step g: 96 (class, fold) AUCs and C equal")
    else:
        fail(f"unknown step '{step}'")


if __name__ == "__main__":
    main()
