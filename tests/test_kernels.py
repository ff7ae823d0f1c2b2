"""The numba kernels behind ``l2h.fit``: the vectorised exp, the float32 pass, cluster stats,
the row sort of a merge step."""

from __future__ import annotations

import os
import subprocess
import sys

import numba as nb
import numpy as np
import pytest
from scipy.special import softmax

from l2h import _small, _steps
from l2h._vexp import exp_diff_float32, exp_nonpositive
from l2h.algorithm import summarise


@nb.njit
def _exp_each(values):
    out = np.empty_like(values)
    for i in range(values.shape[0]):
        out[i] = exp_nonpositive(values[i])
    return out


@nb.njit
def _exp_each_in_fastmath_caller(values):
    out = np.empty_like(values)
    for i in range(values.shape[0]):
        out[i] = _steps._sum_exp(values[i : i + 1], 1, 0.0)  # compiled with reassoc
    return out


def _exp_inputs():
    rng = np.random.default_rng(0)
    return np.concatenate(
        [
            np.linspace(-708.38, 0.0, 200_001),
            -rng.exponential(5.0, 100_000),
            -rng.random(100_000) * 1e-3,
            -(10.0 ** rng.uniform(-300, 0, 10_000)),
            [0.0, -0.0, -1e-300, -5e-324],
        ]
    )


@pytest.mark.parametrize("kernel", [_exp_each, _exp_each_in_fastmath_caller])
def test_vectorised_exp_is_within_three_ulp_of_numpy(kernel):
    """Also when called from a kernel compiled with reassociation (it must not be inlined
    there by numba, or the range reduction loses all its digits)."""
    x = _exp_inputs()
    ours = kernel(x)
    ref = np.exp(x)
    ulps = np.abs(ours - ref) / ref / np.finfo(np.float64).eps
    assert ulps.max() <= 3.0
    assert kernel(np.array([0.0]))[0] == 1.0


def test_vectorised_exp_flushes_subnormal_results_to_zero():
    x = np.array([-708.4, -709.0, -745.2, -1e4, -np.inf])
    assert (_exp_each(x) == 0.0).all()
    assert _exp_each(np.array([-708.38]))[0] == pytest.approx(np.exp(-708.38), rel=1e-15)


def float32_cases(k: int) -> np.ndarray:
    rng = np.random.default_rng(k)
    x = rng.standard_normal((400, k)) * 2
    x[:40, : k // 2] = 0.0  # many exact ties at the maximum: more than fit the top set
    x[40:80] = np.round(x[40:80])  # ties everywhere
    x[80:120] *= 500  # most columns underflow to exactly 0
    x[120:130, 1:] = -1e4  # one finite column, all others 0 after exp
    x[130:200] = 3.0 * rng.standard_normal((70, 1)) + 0.01 * rng.standard_normal((70, k))
    return x.astype(np.float32)


F32_ULP = 2.0**-23  # relative spacing of float32 at the bottom of a binade


@pytest.mark.parametrize("k", [1, 7, 8, 40, 63, 64, 263, 264, 300, 1000, 1003])
def test_float32_row_summaries(k):
    """The fused float32 pass: confidences to float32 accuracy (SciPy's softmax of the
    float64 values is the reference), the same first argmax, a top set whose logits are
    all at least every other logit, and the tail: the sum of the other exponentials."""
    x = float32_cases(k)
    s = summarise(x)
    x64 = x.astype(np.float64)
    p = softmax(x64, axis=1)
    np.testing.assert_allclose(s.conf, p.max(axis=1), rtol=2 * F32_ULP)
    np.testing.assert_array_equal(s.assign, p.argmax(axis=1))
    np.testing.assert_array_equal(s.row_max, x64.max(axis=1))
    assert not s.bad_rows.any()
    shifted = x64 - x64.max(axis=1, keepdims=True)
    e = np.where(shifted >= -87.33, np.exp(shifted), 0.0)  # float32 underflow: 0
    for r in range(x.shape[0]):
        top = s.top_idx[r][s.top_idx[r] >= 0]
        assert len(top) == len(set(top.tolist())) >= min(8, k)
        assert (s.top_idx[r][len(top) :] == -1).all()  # the set comes first
        np.testing.assert_allclose(s.top_e[r, : len(top)], e[r, top], rtol=F32_ULP)
        rest = np.ones(k, bool)
        rest[top] = False
        if rest.any():
            # every logit outside is at most every logit inside; on equal logits, the
            # outside one has the larger column
            low = np.lexsort((-top, x64[r, top]))[0]
            below = x64[r, rest] < x64[r, top[low]]
            tie = (x64[r, rest] == x64[r, top[low]]) & (np.flatnonzero(rest) > top[low])
            assert (below | tie).all()
            assert s.tail[r] == pytest.approx(e[r, rest].sum(), rel=F32_ULP, abs=1e-300)
        else:
            assert s.tail[r] == 0.0


def _every_float32(lo: float, hi: float, stride: int) -> np.ndarray:
    """Every ``stride``-th float32 from ``hi`` down to ``lo`` (``lo < hi <= 0``)."""
    start = np.array([hi], np.float32).view(np.uint32)[0]
    stop = np.array([lo], np.float32).view(np.uint32)[0]
    if hi == 0.0:
        start = np.uint32(0x80000000)  # -0.0 and the negative floats above lo
    return np.arange(start, stop + 1, stride, dtype=np.uint32).view(np.float32)


@nb.njit
def _exp32_each(v, m):
    out = np.empty(v.shape[0], np.float32)
    for j in range(v.shape[0]):
        out[j] = exp_diff_float32(v[j], m[j])
    return out


def test_float32_exp_within_one_ulp_of_the_correctly_rounded_result():
    """Float32 ``exp`` over the range a softmax uses, [-87.33, 0] (below, the result is not
    a normal float32: 0): within 1 ulp of the correctly rounded float32 result, every
    1,009th float32 there (1.1 million) and every float32 in [-1, -0.5] (8.4 million).
    NumPy's own float32
    ``np.exp`` is up to 3 ulp from it (we are within 1 ulp of NumPy's result wherever NumPy
    is within 0 ulp, and never further from NumPy than NumPy is from the correct result
    plus 1 ulp)."""
    for v in (_every_float32(-87.33, 0.0, 1009), _every_float32(-1.0, -0.5, 1)):
        ours = _exp32_each(v, np.zeros_like(v)).view(np.int32).astype(np.int64)
        exact = np.exp(v.astype(np.float64)).astype(np.float32).view(np.int32)
        numpy_ = np.exp(v).view(np.int32).astype(np.int64)
        assert np.abs(ours - exact).max() <= 1
        assert (np.abs(ours - numpy_) <= 1 + np.abs(numpy_ - exact)).all()
    assert _exp32_each(np.array([0.0, -87.34, -1e30], np.float32), np.zeros(3, np.float32))[
        0
    ] == np.float32(1.0)
    below = _exp32_each(np.array([-87.34, -100.0, -1e30], np.float32), np.zeros(3, np.float32))
    assert (below == 0.0).all()


def test_float32_exp_of_a_difference_is_as_accurate_as_of_its_exact_value():
    """``exp(v - m)`` is accurate for the exact difference, though ``v - m`` rounded to
    float32 is off by up to half an ulp of it (relative error up to |v - m| * 6e-8)."""
    rng = np.random.default_rng(1)
    m = (rng.standard_normal(500_000) * 1e3).astype(np.float32)
    v = np.minimum(m - rng.exponential(20.0, 500_000).astype(np.float32), m)
    ours = _exp32_each(v, m).astype(np.float64)
    exact = np.exp(v.astype(np.float64) - m.astype(np.float64))
    normal = exact >= 1.2e-38
    assert normal.mean() > 0.9
    assert np.abs(ours[normal] / exact[normal] - 1).max() <= F32_ULP
    rounded = np.exp((v - m).astype(np.float64))  # what a float32 difference would give
    assert np.abs(rounded[normal] / exact[normal] - 1).max() > 10 * F32_ULP


def test_float32_exp_keeps_its_accuracy_inside_a_reassociating_kernel():
    """The merges sum these exponentials in a kernel compiled with ``reassoc``: the sum of
    one term is the term itself."""
    v = _every_float32(-80.0, 0.0, 9973)
    direct = _exp32_each(v, np.zeros_like(v))
    summed = np.array([_steps._sum_exp32(v[i : i + 1], 1, np.float32(0.0)) for i in range(500)])
    np.testing.assert_array_equal(summed, direct[:500].astype(np.float64))


@pytest.mark.parametrize("bad", [np.nan, -np.nan, np.inf, -np.inf])
def test_float32_non_finite_rows_are_flagged(bad):
    x = np.zeros((6, 300), np.float32)
    x[1, 17] = bad
    x[4, 299] = bad
    assert summarise(x).bad_rows.tolist() == [False, True, False, False, True, False]
    with pytest.raises(ValueError, match="NaN or infinite values in 2 of 6 rows"):
        import l2h

        l2h.fit(x)


@pytest.mark.parametrize("compiled", [False, True])
def test_cluster_stats_sum_and_mean_like_numpy(compiled):
    """Per-cluster sums and means bit for bit as ``np.sum``/``np.mean`` on the cluster's
    confidences in row order (the listing's ``np.mean(confidences[assignments == c])``),
    on both paths."""
    from l2h.algorithm import _ClusterStats

    rng = np.random.default_rng(4)
    k = 50
    assign = rng.integers(0, k, 20_000)
    assign[assign == 7] = 8  # an empty cluster
    conf = rng.random(20_000) ** 3
    if compiled:
        n = len(assign)
        grouped = _steps.group_rows(assign, conf, np.zeros(n, np.int64), np.ones(n), k)[:4]
    else:
        grouped = _small.cluster_order(assign, conf, k)
    stats = _ClusterStats(*grouped)
    np.testing.assert_array_equal(stats.order, np.argsort(assign, kind="stable"))
    np.testing.assert_array_equal(stats.counts, np.bincount(assign, minlength=k))
    for c in range(k):
        members = conf[assign == c]
        np.testing.assert_array_equal(stats.members(c), members)
        assert stats.sums[c] == (np.sum(members) if members.size else 0.0)
        assert stats.means[c] == (np.mean(members) if members.size else 0.0)


@pytest.mark.parametrize("n_items", [1, 63, 64, 65, 700, 5000])
def test_sort_items_orders_rows_and_keeps_their_segments(n_items):
    """A step's items are sorted by row through a bitmap, which is left all zero."""
    n_rows = 10_000
    rng = np.random.default_rng(n_items)
    rows = rng.choice(n_rows - 1, n_items, replace=False).astype(np.int64)
    rows[0] = n_rows - 1  # the last bit of the last word
    seg = rng.integers(0, 50, n_items).astype(np.int64)
    expected = sorted(zip(rows.tolist(), seg.tolist(), strict=True))
    marks = np.zeros((n_rows + 63) // 64, np.uint64)
    seg_of = np.empty(n_rows, np.int64)
    _steps._sort_items(rows, seg, n_items, marks, seg_of)
    assert list(zip(rows.tolist(), seg.tolist(), strict=True)) == expected
    assert not marks.any()


def _printed_with_cache(code: str, cache) -> list[str]:
    """What ``python -c code`` prints, with ``cache`` as numba's (empty) kernel cache."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache))
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return out.stdout.split()


def test_step_kernels_compile_in_a_child_process_on_a_cold_cache(tmp_path):
    """On a cold kernel cache, :mod:`l2h._precompile` compiles the step kernel for the
    logits' dtype in a child process, into numba's cache, where this process finds it."""
    code = (
        "import numpy as np; from l2h import _precompile as p; p._idle_core = lambda: True;"
        "print(p.cached(np.float32));"
        "p.wait(p.start(np.float32));"
        "print(p.cached(np.float32), p.cached(np.float64), p.start(np.float32))"
    )
    assert _printed_with_cache(code, tmp_path) == ["False", "True", "False", "None"]


def test_after_precompile_fits_compile_nothing(tmp_path):
    """``l2h precompile`` leaves every kernel of a fit in numba's cache: fits of float32 and
    float64 logits (threaded steps included) then load each kernel and compile none."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    subprocess.run([sys.executable, "-m", "l2h", "precompile"], env=env, check=True)
    code = (
        "import numpy as np, l2h; from l2h import algorithm, _kernels as k, _steps as s;"
        "algorithm._NUMPY_ELEMENTS = -1; algorithm._PARALLEL_ELEMENTS = -1;"
        "x = np.random.default_rng(0).standard_normal((3000, 40));"
        "[l2h.fit(x.astype(d), n_jobs=2) for d in ('float32', 'float64')];"
        "kernels = [k.summarise_rows_float32, k.prepare_rows, k.summarise_rows, s.group_rows,"
        " s.run_step, s.reassign_rows];"
        "print(*[sum(f.stats.cache_hits.values()) > 0 and not f.stats.cache_misses"
        " for f in kernels])"
    )
    assert _printed_with_cache(code, tmp_path) == ["True"] * 6


def test_a_failed_fit_stops_the_compiling_child(tmp_path):
    """A fit that fails (here: NaN logits) does not leave its compiling child running."""
    code = (
        "import numpy as np, l2h; from l2h import algorithm, _precompile as p; children = [];"
        "p._idle_core = lambda: True;"
        "start = p.start; p.start = lambda d: children.append(start(d)) or children[-1];"
        "algorithm._NUMPY_ELEMENTS = -1; x = np.zeros((300, 20), np.float32); x[5, 3] = np.nan\n"
        "try: l2h.fit(x)\nexcept ValueError: print(children[0].poll() is not None)"
    )
    assert _printed_with_cache(code, tmp_path) == ["True"]


def test_the_child_starts_only_when_a_core_is_free(monkeypatch):
    from l2h import _precompile

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(os, "getloadavg", lambda: (0.9, 0.0, 0.0))
    assert _precompile._idle_core()
    monkeypatch.setattr(os, "getloadavg", lambda: (1.5, 0.0, 0.0))
    assert not _precompile._idle_core()
    monkeypatch.setattr(_precompile, "cached", lambda dtype: False)
    assert _precompile.start(np.float32) is None  # busy machine: no child
