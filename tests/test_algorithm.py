"""L2H against the oracle (a plain transcription of the paper's listing) and its contract."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from oracle import l2h_oracle
from scipy.special import softmax

import l2h
from l2h import _small
from l2h.algorithm import EmptyClusterWarning, summarise

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
PATHS = ["numpy", "compiled"]


@pytest.fixture(params=PATHS)
def path(request, monkeypatch):
    """Run the test on the NumPy path (small inputs) and on the compiled path (large ones)."""
    from l2h import algorithm

    monkeypatch.setattr(algorithm, "_NUMPY_ELEMENTS", 2**62 if request.param == "numpy" else -1)
    monkeypatch.setattr(algorithm, "_NUMPY_CLUSTERS", 2**62)
    return request.param


@pytest.fixture
def compiled(monkeypatch):
    """Force the compiled path (numba kernels) whatever the input size."""
    from l2h import algorithm

    monkeypatch.setattr(algorithm, "_NUMPY_ELEMENTS", -1)


def fit_quiet(logits, aggregation="cluster_mean", **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EmptyClusterWarning)
        return l2h.fit(logits, aggregation, **kwargs)


def oracle_quiet(logits, aggregation="cluster_mean"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return l2h_oracle(np.asarray(logits, dtype=np.float64), aggregation)


def assert_same_as_oracle(logits, aggregation="cluster_mean", **kwargs):
    """Steps equal the oracle's up to its first near tie; returns that step index."""
    ref = oracle_quiet(logits, aggregation)
    ours = fit_quiet(logits, aggregation, **kwargs).steps
    assert len(ours) == len(ref.steps) == logits.shape[1] - 1
    limit = ref.first_near_tie
    assert ours[:limit] == ref.steps[:limit]
    return limit


@st.composite
def random_logits(draw, max_rows=120, max_clusters=14):
    n = draw(st.integers(1, max_rows))
    k = draw(st.integers(1, max_clusters))
    seed = draw(st.integers(0, 2**32 - 1))
    scale = 10.0 ** draw(st.floats(-3, 4))
    shift = draw(st.floats(-1e3, 1e3))
    structure = draw(st.sampled_from(["gaussian", "clustered", "peaked"]))
    rng = np.random.default_rng(seed)
    if structure == "gaussian":
        x = rng.standard_normal((n, k))
    elif structure == "clustered":  # points near one of a few prototypes, like a trained model
        protos = rng.standard_normal((max(1, k // 2), k)) * 3
        x = protos[rng.integers(0, len(protos), n)] + 0.3 * rng.standard_normal((n, k))
    else:  # very confident rows with a spread-out tail
        x = rng.standard_normal((n, k)) * 0.5
        x[np.arange(n), rng.integers(0, k, n)] += 8
    return x * scale + shift


@SETTINGS
@given(random_logits(), st.sampled_from(l2h.AGGREGATIONS))
def test_matches_oracle_float64(path, logits, aggregation):
    assert_same_as_oracle(logits, aggregation)


@SETTINGS
@given(random_logits(max_rows=60), st.sampled_from([np.float16, np.float32]))
def test_matches_oracle_on_low_precision_values(path, logits, dtype):
    low = logits.astype(dtype)
    assume(np.isfinite(low).all())
    assert_same_as_oracle(low)


@SETTINGS
@given(random_logits(max_rows=80, max_clusters=30))
def test_thread_count_does_not_change_result(compiled, logits):
    one = fit_quiet(logits, n_jobs=1)
    two = fit_quiet(logits, n_jobs=2)
    assert one == two


def test_random_inputs_rarely_hit_near_ties(path):
    """The oracle comparison is meaningful: most random cases compare every step."""
    rng = np.random.default_rng(0)
    full = 0
    for _ in range(20):
        x = rng.standard_normal((200, 12)) * 2
        full += assert_same_as_oracle(x) == 11
    assert full >= 18


@pytest.mark.parametrize("k", [20, 60])
def test_larger_k_uses_top_lists_and_tails(path, k):
    """K well above the 8 kept entries per row: tails, group gathers and full rescans."""
    rng = np.random.default_rng(k)
    protos = rng.standard_normal((k, k)) * 4
    x = protos[rng.integers(0, len(protos), 1500)] + rng.standard_normal((1500, k))
    for aggregation in l2h.AGGREGATIONS:
        assert assert_same_as_oracle(x, aggregation) == k - 1


def test_extreme_scale_where_naive_exp_underflows(path):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((300, 9)) * 1e4
    with np.errstate(over="ignore"):
        assert not np.isfinite(np.log(np.exp(x).sum(axis=1))).all()  # naive softmax fails
    # Confidences are all exactly 1, so scores tie exactly: the first group must win each time.
    for aggregation in l2h.AGGREGATIONS:
        assert fit_quiet(x, aggregation).steps == oracle_quiet(x, aggregation).steps
    y = x * 1e-3  # scale 10: no ties, and a shift of 1e4 must not matter either
    assert assert_same_as_oracle(y + 1e4) == 8


def test_confidence_and_assignment_bitwise_equal_to_scipy():
    """Float64 logits on both paths; float32 logits on the NumPy path, against SciPy's
    softmax of their float64 values."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((500, 37)) * 7
    x[::7, 3] = x[::7, 5]  # exact ties in the argmax
    p = softmax(x, axis=1)
    s = summarise(x)
    np.testing.assert_array_equal(s.conf, p.max(axis=1))
    np.testing.assert_array_equal(s.assign, p.argmax(axis=1))
    for logits in (x, x.astype(np.float32)):
        p = softmax(logits.astype(np.float64), axis=1)
        conf, assign, bad = _small.summarise(logits)
        np.testing.assert_array_equal(conf, p.max(axis=1))
        np.testing.assert_array_equal(assign, p.argmax(axis=1))
        assert not bad.any()


def test_small_inputs_take_the_numpy_path():
    """The documented threshold: at most _NUMPY_ELEMENTS logits and _NUMPY_CLUSTERS clusters."""
    from l2h import algorithm

    k = 1000
    n = algorithm._NUMPY_ELEMENTS // k
    assert algorithm.uses_numpy_path((n, k))
    assert not algorithm.uses_numpy_path((n + 1, k))
    assert not algorithm.uses_numpy_path((2, algorithm._NUMPY_CLUSTERS + 1))
    assert algorithm.uses_numpy_path((1000, 10)) and algorithm.uses_numpy_path((10_000, 100))


def test_import_and_small_fit_load_neither_numba_nor_scipy():
    """`import l2h` and a fit on the NumPy path import no JIT compiler (and no SciPy)."""
    code = (
        "import sys, numpy as np, l2h; l2h.fit(np.random.default_rng(0).normal(size=(50, 6)));"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'numba', 'llvmlite', 'scipy'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_fit_l2h_job_loads_neither_scipy_nor_sklearn():
    """What the workflow's `fit_l2h` job imports (a fit, the Newick leaves' names from
    l2h.metrics) stays light: SciPy and scikit-learn load only when a score needs them."""
    code = (
        "import sys, numpy as np, l2h; from l2h.metrics import cluster_names;"
        "x = np.random.default_rng(0).normal(size=(50, 6)); l2h.fit(x);"
        "cluster_names(np.arange(50) % 6, x.argmax(1), list('abcdef'), 6);"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'scipy', 'sklearn'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_exact_ties_break_to_first_group(path):
    """Logit gaps of 1000 make every exponential exactly 0 or 1: all scores tie exactly."""
    k = 6
    x = np.full((4 * k, k), -1000.0)
    x[np.arange(4 * k), np.arange(4 * k) % k] = 0.0
    ref = oracle_quiet(x)
    assert fit_quiet(x).steps == ref.steps
    assert ref.steps[0] == ((0,), (1,))


def test_duplicate_columns_and_rows(path):
    rng = np.random.default_rng(8)
    base = rng.standard_normal((40, 5)) * 3
    x = np.concatenate([base, base[:, :2]], axis=1)  # columns 5, 6 copy 0, 1: never argmax
    x = np.concatenate([x, x[:10]])
    ours = fit_quiet(x)
    assert ours.steps == oracle_quiet(x).steps
    assert ours.steps[0][0] == (5,)  # empty clusters score 0 and go first, in order


def test_empty_clusters_warn_and_merge_deterministically(path):
    x = np.array([[5.0, 0.0, 0.0, -1.0], [4.0, 0.0, 1.0, -1.0], [0.0, 0.0, 6.0, 0.0]])
    with pytest.warns(EmptyClusterWarning, match="2 of 4 clusters have no assigned point"):
        tree = l2h.fit(x)
    assert tree.steps == oracle_quiet(x).steps
    assert tree.steps[0] == ((1,), (0,))  # empty lsg: nothing moves, first other group wins


def test_single_cluster_and_single_row(path):
    assert l2h.fit(np.zeros((5, 1))).steps == []
    tree = fit_quiet(np.array([[0.0, 2.0, 1.0]]))
    assert tree.steps == oracle_quiet(np.array([[0.0, 2.0, 1.0]])).steps
    assert tree.n_clusters == 3


def test_memmap_input_is_not_copied(path, tmp_path):
    rng = np.random.default_rng(11)
    x = rng.standard_normal((400, 16)).astype(np.float32)
    path = tmp_path / "logits.npy"
    np.save(path, x)
    mapped = np.load(path, mmap_mode="r")
    assert fit_quiet(mapped) == fit_quiet(np.array(x))


def test_integer_logits_and_lists_accepted(path):
    x = [[3, 1, 0], [0, 4, 1], [1, 0, 2], [2, 2, 0]]
    assert fit_quiet(x).steps == oracle_quiet(np.array(x, float)).steps


def test_point_sum_grows_with_cluster_size_unlike_cluster_mean(path):
    """A big, confident cluster is never merged first under point_sum, but may be under
    cluster_mean, which ignores cluster sizes (the v1/v2 difference of Table 7)."""
    rng = np.random.default_rng(2)
    sizes = [400, 20, 20]
    conf = [2.0, 6.0, 6.0]
    rows = []
    for c, (n, gap) in enumerate(zip(sizes, conf, strict=True)):
        r = rng.standard_normal((n, 3)) * 0.2
        r[:, c] += gap
        rows.append(r)
    x = np.concatenate(rows)
    assert fit_quiet(x, "point_sum").steps[0][0] != (0,)
    assert fit_quiet(x, "cluster_mean").steps[0][0] == (0,)
    assert_same_as_oracle(x, "point_sum")
    assert_same_as_oracle(x, "point_mean")


def test_callable_aggregation_matches_builtin(path):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((300, 8)) * 2

    def cluster_mean(confidences):
        return sum(float(np.mean(c)) if c.size else 0.0 for c in confidences)

    tree = fit_quiet(x, cluster_mean)
    assert tree.steps == fit_quiet(x).steps
    assert tree.aggregation == "cluster_mean"


@pytest.mark.parametrize(
    ("logits", "message"),
    [
        (np.zeros(5), "2-D"),
        (np.zeros((2, 3, 4)), "2-D"),
        (np.zeros((0, 3)), "at least one row"),
        (np.zeros((3, 0)), "at least one row"),
        (np.array([["a", "b"]]), "float16, float32 or float64"),
        (np.zeros((2, 2), dtype=complex), "float16, float32 or float64"),
    ],
)
def test_bad_shapes_and_dtypes(logits, message):
    with pytest.raises(ValueError, match=message):
        l2h.fit(logits)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_values_reported_with_row_count(path, bad):
    x = np.zeros((10, 3))
    x[2, 1] = bad
    x[7, 0] = bad
    with pytest.raises(ValueError, match="NaN or infinite values in 2 of 10 rows .first at row 2"):
        l2h.fit(x)


def test_bad_aggregation_and_jobs():
    x = np.zeros((3, 3))
    with pytest.raises(ValueError, match="unknown aggregation 'mean'"):
        l2h.fit(x, "mean")
    with pytest.raises(ValueError, match="non-finite score"):
        l2h.fit(np.eye(3), lambda conf: float("nan"))
    with pytest.raises(ValueError, match="n_jobs"):
        l2h.fit(x, n_jobs=0)


def test_progress_goes_to_stderr(path, capsys):
    rng = np.random.default_rng(0)
    tree = l2h.fit(rng.standard_normal((50, 4)), progress=True)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "merges done after" in captured.err
    assert len(tree.steps) == 3


def reference_summary(x: np.ndarray, m: int = 8):
    """Top-m exponentials per row (value descending, then index) and the sum of the rest."""
    e = np.exp(x - x.max(axis=1, keepdims=True))
    order = np.lexsort((np.broadcast_to(np.arange(x.shape[1]), x.shape), -e), axis=1)
    top = order[:, :m]
    mask = np.ones_like(e, bool)
    np.put_along_axis(mask, top, False, axis=1)
    rest = np.where(mask, e, 0.0).sum(axis=1)
    return top, np.take_along_axis(e, top, axis=1), rest


@pytest.mark.parametrize("k", [7, 40, 300, 1000, 1003])
def test_row_summaries_match_a_full_sort(k):
    """Top entries and tails, on the small-K path and the strand path (K >= 264), with exact
    ties, columns that underflow to 0 and extreme rows."""
    rng = np.random.default_rng(k)
    x = rng.standard_normal((300, k)) * 2
    x[:40, : k // 2] = 0.0  # many exact ties at the maximum
    x[40:80] = np.round(x[40:80])  # ties everywhere
    x[80:120] *= 500  # most columns underflow to exactly 0
    x[120:130, 1:] = -1e4  # one finite column, all others 0 after exp
    s = summarise(x)
    top, top_e, rest = reference_summary(x, min(8, k))
    # the top list is a set: order it like the reference (value descending, then index)
    order = np.lexsort((s.top_idx, -s.top_e), axis=1)
    np.testing.assert_array_equal(np.take_along_axis(s.top_idx, order, axis=1), top)
    np.testing.assert_array_equal(np.take_along_axis(s.top_e, order, axis=1), top_e)
    np.testing.assert_allclose(s.tail, rest, rtol=1e-12, atol=1e-300)


def test_large_k_matches_oracle(path):
    """K above the strand threshold, against the listing."""
    rng = np.random.default_rng(31)
    k = 300
    protos = rng.standard_normal((k, k)) * 3
    x = protos[rng.integers(0, k, 900)] + rng.standard_normal((900, k))
    assert assert_same_as_oracle(x) == k - 1


@pytest.mark.parametrize("dtype", [">f8", ">f4", ">f2"])
def test_big_endian_logits(path, dtype, tmp_path):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((120, 12)) * 3
    expected = fit_quiet(x.astype(dtype).astype(np.float64)).steps
    assert fit_quiet(x.astype(dtype)).steps == expected
    np.save(tmp_path / "big.npy", x.astype(dtype))
    assert fit_quiet(np.load(tmp_path / "big.npy", mmap_mode="r")).steps == expected


def test_callable_gets_read_only_confidences(path):
    x = np.random.default_rng(0).standard_normal((200, 10))

    def in_place(confidences):
        for c in confidences:
            np.square(c, out=c)
        return 0.0

    with pytest.raises(ValueError, match="read-only"):
        l2h.fit(x, in_place)


@pytest.mark.parametrize("n_jobs", [1.5, True, "2"])
def test_n_jobs_must_be_an_integer(n_jobs):
    with pytest.raises(ValueError, match="n_jobs must be a positive integer"):
        l2h.fit(np.eye(3), n_jobs=n_jobs)


def test_callable_must_return_a_number():
    with pytest.raises(ValueError, match="must return a number"):
        l2h.fit(np.eye(3), lambda confidences: np.ones(2))


def test_tiny_batches_sorted_rows_and_threads_give_the_same_steps(compiled, monkeypatch):
    """Steps cut into many small batches, rows visited in memory order and shared between
    threads: the same merges as one batch per step on one thread, and as the listing."""
    from l2h import algorithm

    rng = np.random.default_rng(12)
    k = 40
    protos = rng.standard_normal((k, k)) * 3
    x = protos[rng.integers(0, k, 1200)] + rng.standard_normal((1200, k))
    reference = fit_quiet(x, n_jobs=1).steps
    monkeypatch.setattr(algorithm, "_PARALLEL_ELEMENTS", 0)
    monkeypatch.setattr(algorithm, "_SORT_ROWS", 0)
    assert fit_quiet(x, n_jobs=2).steps == reference
    assert assert_same_as_oracle(x) == k - 1


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_single_cluster_shortcut_gives_the_same_steps(compiled, monkeypatch, dtype):
    """Steps whose group is one cluster use moves computed right after the pass: the same
    merges as re-assigning that cluster's rows in the step, on both passes."""
    from l2h import algorithm

    rng = np.random.default_rng(21)
    k = 300
    protos = rng.standard_normal((k, k)) * 3
    x = (protos[rng.integers(0, k, 3000)] + rng.standard_normal((3000, k))).astype(dtype)
    x[:50] *= 300  # rows whose moves come from their logits (tiny top entries)
    with_shortcut = fit_quiet(x).steps
    monkeypatch.setattr(algorithm, "_SINGLE_CLUSTER_SHORTCUT", False)
    assert fit_quiet(x).steps == with_shortcut
