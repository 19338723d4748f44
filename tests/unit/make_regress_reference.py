#!/usr/bin/python3
"""make_regress_reference.py - the scikit-learn values embedded in
tests/unit/test_core_regress.c (run once; paste the output into the test).

Two small problems (20 x 30: fewer samples than features, RidgeCV's
"eigen" mode; 40 x 6: more, its "svd" mode), with a linear target plus
noise: RidgeCV on nilearn's alpha grid (chosen alpha, leave-one-out mean
squared errors, coef, intercept), SVR(kernel='linear') at C = 1 and 10,
f_regression, and the regression metrics of a prediction.  LassoCV on two
more.  SVR at C = 100 stopped by max_iter (nilearn's cap), linear and RBF.
"""
import numpy as np
import scipy
import sklearn
from scipy.stats import pearsonr
from sklearn.feature_selection import f_regression
from sklearn.linear_model import RidgeCV
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
from sklearn.svm import SVR


def arr(name, a, fmt="%.17g"):
    a = np.asarray(a, dtype=np.float64).ravel()
    body = ",\n\t".join(", ".join(fmt % v for v in a[i:i + 4]) for i in range(0, a.size, 4))
    print(f"static const double {name}[{a.size}] = {{\n\t{body}\n}};")


print(f"/* made by tests/unit/make_regress_reference.py with scikit-learn {sklearn.__version__}, "
      f"scipy {scipy.__version__}, numpy {np.__version__} */")
rng = np.random.RandomState(18)
alphas = np.geomspace(1e-3, 1e4, 8)
for tag, n, p in (("w", 20, 30), ("t", 40, 6)):
    X = rng.randn(n, p)
    w = rng.randn(p) * (rng.rand(p) < 0.5)
    y = X @ w * 0.3 + 0.5 * rng.randn(n) + 3.0
    arr(f"{tag}_X", X)
    arr(f"{tag}_y", y)
    r = RidgeCV(alphas=alphas, store_cv_values=True).fit(X, y)
    print(f"static const size_t {tag}_ridge_best = {int(np.flatnonzero(alphas == r.alpha_)[0])};")
    arr(f"{tag}_ridge_loo", r.cv_values_.mean(axis=0))
    arr(f"{tag}_ridge_coef", r.coef_)
    arr(f"{tag}_ridge_intercept", [r.intercept_])
    for C in (1, 10):
        s = SVR(kernel="linear", C=C, epsilon=0.1, tol=1e-3).fit(X, y)
        arr(f"{tag}_svr{C}_coef", s.coef_)
        arr(f"{tag}_svr{C}_intercept", s.intercept_)
    F, _ = f_regression(X, y)
    arr(f"{tag}_F", F)
    yhat = X @ r.coef_ + r.intercept_ + 0.3 * np.sin(np.arange(n))
    arr(f"{tag}_yhat", yhat)
    arr(f"{tag}_metrics", [r2_score(y, yhat), mean_squared_error(y, yhat),
                           mean_absolute_error(y, yhat), pearsonr(y, yhat)[0]])

# LassoCV (nilearn's lasso: 30 alphas, 5 folds) on both shapes.
from sklearn.linear_model import LassoCV  # noqa: E402
rng = np.random.RandomState(1818)
for tag, n, p in (("lw", 30, 40), ("lt", 60, 8)):
    X = rng.randn(n, p)
    w = rng.randn(p) * (rng.rand(p) < 0.3)
    y = X @ w + 0.5 * rng.randn(n) - 1.0
    arr(f"{tag}_X", X)
    arr(f"{tag}_y", y)
    m = LassoCV(n_alphas=30, cv=5, tol=1e-4, max_iter=1000).fit(X, y)
    arr(f"{tag}_lasso_alphas", m.alphas_)
    arr(f"{tag}_lasso_mse", m.mse_path_.mean(axis=1))
    arr(f"{tag}_lasso_alpha", [m.alpha_])
    arr(f"{tag}_lasso_coef", m.coef_)
    arr(f"{tag}_lasso_intercept", [m.intercept_])

# SVR stopped by nilearn's iteration cap: a noisy 40 x 50 problem at C = 100
# (libsvm's shrinking starts after 80 iterations), after a few pair updates
# (n_iter_ = max_iter, scikit-learn's ConvergenceWarning) and run to tol;
# linear and RBF (gamma = 1 / 50) kernels.
import warnings  # noqa: E402
rng = np.random.RandomState(9)
X = rng.randn(40, 50)
y = X[:, :5] @ rng.randn(5) + 2.0 * rng.randn(40)
arr("cap_X", X)
arr("cap_y", y)
for kernel, its in (("linear", (60, 300, -1)), ("rbf", (30, -1))):
    for it in its:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            s = SVR(kernel=kernel, C=100, epsilon=0.1, tol=1e-3, gamma=1 / 50, max_iter=it).fit(X, y)
        tag = f"cap_{kernel}_{it if it > 0 else 'conv'}"
        print(f"static const long {tag}_n_iter = {int(np.ravel(s.n_iter_)[0])};")
        beta = np.zeros(40)
        beta[s.support_] = s.dual_coef_[0]
        arr(f"{tag}_beta", beta)
        arr(f"{tag}_intercept", s.intercept_)
