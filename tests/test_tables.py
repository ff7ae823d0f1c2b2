"""Tests of l2h.tables and the bundled paper numbers (metrics here are synthetic test data)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from _synthetic_metrics import synthetic_metrics

from l2h.results import COLUMNS, load_metrics, validate_metrics
from l2h.tables import (
    NO_ROWS,
    TABLE1_METRICS,
    format_table,
    level_table,
    load_paper_numbers,
    supervised_table,
    table1,
    table7,
    to_csv,
    to_latex,
    to_markdown,
    write_tables,
)

SEED_STD = float(np.std([0, 1, 2], ddof=1)) * 0.01  # std of base + 0.01 * seed over seeds 0..2


@pytest.fixture(scope="module")
def metrics() -> pd.DataFrame:
    return synthetic_metrics()


@pytest.fixture(scope="module")
def paper() -> pd.DataFrame:
    return load_paper_numbers()


# ------------------------------------------------------------------------- paper numbers


def test_paper_numbers_every_row_has_a_source_and_sane_values(paper):
    assert len(paper) > 0
    assert (paper["source"].str.len() > 10).all()
    assert paper["source_tag"].isin(["S", "X", "S+X"]).all()
    assert paper["source"].str[:2].isin(["S:", "X:", "S+"]).all()
    assert paper["value"].between(0, 1).all()
    assert paper["verified"].dtype == bool


def test_paper_numbers_never_hold_the_undefined_lhd_column(paper):
    assert not paper["metric"].str.lower().str.contains("lhd").any()
    assert set(paper["metric"]) <= {"nmi", "ari", "acc", "dp", "lp"}


def test_paper_numbers_have_the_twelve_table1_rows(paper):
    t1 = paper[paper["table"] == "1"]
    rows = set(zip(t1["dataset"], t1["method"], t1["model"], strict=True))
    expected = {
        (d, m, mod)
        for d in ("cifar10", "cifar100", "food101")
        for m, mod in (("deepect", "none"), ("treevae", "none"), ("l2h", "temi"), ("l2h", "turtle"))
    }
    assert rows == expected
    for key in expected:
        part = t1[(t1["dataset"] == key[0]) & (t1["method"] == key[1]) & (t1["model"] == key[2])]
        assert {"nmi", "ari", "acc", "dp"} <= set(part["metric"])
        assert not part.duplicated("metric").any()


def test_paper_numbers_unverified_exactly_where_only_the_summary_is_the_source(paper):
    assert (paper["verified"] == paper["source_tag"].isin(["X", "S+X"])).all()
    # ARI appears only in the AI-generated summary, so it is never verified.
    assert not paper.loc[paper["metric"] == "ari", "verified"].any()


def test_paper_numbers_record_the_cifar10_temi_nmi_choice(paper):
    cell = paper[
        (paper["table"] == "1")
        & (paper["dataset"] == "cifar10")
        & (paper["model"] == "temi")
        & (paper["metric"] == "nmi")
    ]
    assert len(cell) == 1
    assert cell["value"].iloc[0] == pytest.approx(0.901)
    assert "0.907" in cell["note"].iloc[0] and "0.901" in cell["note"].iloc[0]


def test_load_paper_numbers_rejects_a_row_without_source(tmp_path, paper):
    bad = paper.copy()
    bad.loc[0, "source"] = ""
    path = tmp_path / "paper.csv"
    bad.to_csv(path, index=False)
    with pytest.raises(ValueError, match="source"):
        load_paper_numbers(path)


# ------------------------------------------------------------------------- loading


def test_load_metrics_round_trip_keeps_none_and_types(tmp_path, metrics):
    path = tmp_path / "metrics.csv"
    metrics.to_csv(path, index=False)
    loaded = load_metrics(path)
    assert list(loaded.columns) == list(COLUMNS)
    assert loaded["n_clusters"].dtype == np.int64 and loaded["seed"].dtype == np.int64
    assert "none" in set(loaded["model"])  # "none" is a name, not a missing value
    np.testing.assert_allclose(loaded["value"], metrics["value"])


def test_load_metrics_missing_column_is_a_clear_error(tmp_path, metrics):
    path = tmp_path / "metrics.csv"
    metrics.drop(columns=["split", "level"]).to_csv(path, index=False)
    with pytest.raises(ValueError, match="missing columns split, level"):
        load_metrics(path)


def test_load_metrics_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="metrics file not found"):
        load_metrics(tmp_path / "nope.csv")


def test_validate_metrics_rejects_bad_values(metrics):
    bad = metrics.astype({"value": object}).copy()
    bad.loc[3, "value"] = "high"
    with pytest.raises(ValueError, match="non-number"):
        validate_metrics(bad)
    bad = metrics.astype({"seed": float}).copy()
    bad.loc[0, "seed"] = 0.5
    with pytest.raises(ValueError, match="integers"):
        validate_metrics(bad)


def test_validate_metrics_empty_value_is_nan(metrics):
    frame = metrics.astype({"value": object}).copy()
    frame.loc[0, "value"] = ""
    assert math.isnan(validate_metrics(frame).loc[0, "value"])


def test_validate_metrics_splits_level_keys(metrics):
    frame = metrics.copy()
    frame.loc[0, "metric"] = "dp@superclass"
    out = validate_metrics(frame)
    assert (out.loc[0, "metric"], out.loc[0, "level"]) == ("dp", "superclass")
    frame.loc[0, "level"] = "order"
    with pytest.raises(ValueError, match="has level 'order'"):
        validate_metrics(frame)


# ------------------------------------------------------------------------- table 1


def test_table1_means_and_stds_over_seeds(metrics):
    t = table1(metrics)
    row = t[(t["dataset"] == "cifar10") & (t["model"] == "turtle")].iloc[0]
    assert row["n_seeds"] == 3
    # Synthetic bases: nmi 0.90, ari 0.91, acc 0.92, lp 0.93; dp 0.80 for cluster_mean.
    for metric, base in (("nmi", 0.90), ("ari", 0.91), ("acc", 0.92), ("lp", 0.93), ("dp", 0.80)):
        assert row[f"{metric}_mean"] == pytest.approx(base + 0.01)
        assert row[f"{metric}_std"] == pytest.approx(SEED_STD)


def test_table1_uses_test_split_class_level_and_cluster_mean(metrics):
    t = table1(metrics)
    turtle = t[(t["dataset"] == "cifar10") & (t["model"] == "turtle")]
    assert len(turtle) == 1  # one aggregation, not three
    assert turtle["dp_mean"].iloc[0] == pytest.approx(0.81)  # not the train split's 0.86
    assert "supervised" not in set(t["model"])
    other = table1(metrics, aggregation="point_sum")
    assert other.loc[other["model"] == "turtle", "dp_mean"].iloc[0] == pytest.approx(0.71)


def test_table1_k_sweep_uses_true_k_or_the_given_one(metrics):
    t = table1(metrics)
    c100 = t[t["dataset"] == "cifar100"].iloc[0]
    assert c100["nmi_mean"] == pytest.approx(0.5 + 0.100 + 0.01)
    t98 = table1(metrics, n_clusters={"cifar100": 98})
    assert t98.loc[t98["dataset"] == "cifar100", "nmi_mean"].iloc[0] == pytest.approx(
        0.5 + 0.098 + 0.01
    )
    with pytest.raises(ValueError, match="no results for K=7"):
        table1(metrics, n_clusters={"cifar100": 7})


def test_table1_unknown_dataset_with_several_k_is_an_error(metrics):
    frame = metrics.copy()
    frame.loc[frame["dataset"] == "cifar100", "dataset"] = "mystery"
    with pytest.raises(ValueError, match="several K"):
        table1(frame)


def test_table1_duplicated_scores_are_an_error(metrics):
    frame = pd.concat([metrics, metrics.iloc[:1]], ignore_index=True)
    with pytest.raises(ValueError, match="duplicated scores"):
        table1(frame)


def test_table1_quotes_paper_numbers_beside_ours(metrics, paper):
    t = table1(metrics, paper)
    assert {"dp_paper", "dp_paper_source", "dp_paper_verified"} <= set(t.columns)
    turtle = t[(t["dataset"] == "cifar100") & (t["model"] == "turtle")].iloc[0]
    assert turtle["dp_paper"] == pytest.approx(0.803)
    assert turtle["dp_mean"] == pytest.approx(0.5 + 0.100 + 0.03 + 0.01)
    # Methods the study did not run appear with the paper's numbers and no seeds ...
    treevae = t[(t["dataset"] == "cifar10") & (t["method"] == "treevae")].iloc[0]
    assert treevae["n_seeds"] == 0 and math.isnan(treevae["nmi_mean"])
    # ... but only for datasets of this study (no food101 here).
    assert set(t["dataset"]) == {"cifar10", "cifar100"}
    assert list(t.columns[:8]) == [
        "dataset", "method", "model", "backbone", "n_clusters", "n_seeds",
        "n_leaves_min", "n_leaves_max",
    ]  # fmt: skip


def test_format_table_marks_quoted_and_unverified_cells(metrics, paper):
    shown = format_table(table1(metrics, paper))
    c10 = shown[shown["Dataset"] == "CIFAR-10"].set_index("Method")
    assert c10.loc["L2H-TURTLE", "NMI"] == f"0.910 ± {SEED_STD:.3f}"
    # The paper's numbers follow ours in a row of their own, each cell with its source.
    assert c10.loc["L2H-TURTLE (paper)", "NMI"] == "0.985 [S+X]"
    assert c10.loc["L2H-TURTLE (paper)", "ARI"] == "0.989 [S]†"
    assert c10.loc["L2H-TURTLE (paper)", "Seeds"] == ""
    assert c10.loc["DeepECT on raw pixels (paper)", "LP"] == "–"
    assert list(c10.index).index("L2H-TURTLE (paper)") == list(c10.index).index("L2H-TURTLE") + 1
    # No raw ids anywhere a person reads.
    text = shown.to_string()
    for raw in ("cifar10", "l2h", "turtle", "clip_vitl14", "cluster_mean"):
        assert raw not in text


def test_rows_are_ordered_baselines_first(metrics, paper):
    t = table1(metrics, paper)
    c10 = t[t["dataset"] == "cifar10"]
    assert list(c10["method"]) == ["deepect", "treevae", "l2h", "l2h"]
    assert list(t["dataset"]).index("cifar100") > max(c10.index)


# ------------------------------------------------------------------------- other tables


def test_table7_one_row_per_aggregation(metrics, paper):
    t = table7(metrics, paper)
    c10 = t[(t["dataset"] == "cifar10") & (t["n_seeds"] > 0)]
    assert list(c10["aggregation"]) == ["cluster_mean", "point_sum", "point_mean"]
    np.testing.assert_allclose(c10["dp_mean"], [0.81, 0.71, 0.61])
    np.testing.assert_allclose(c10["dp_paper"], [0.988, 0.988, 0.988])
    # DP 0.988 of L2H-TURTLE (default aggregation) carries Table 1's tag: verified, S+X.
    assert list(c10["dp_paper_source"]) == ["S+X", "S", "S"]
    assert list(c10["dp_paper_verified"]) == [True, False, False]
    one = table1(metrics, paper)
    t1 = one[(one["dataset"] == "cifar10") & (one["model"] == "turtle")].iloc[0]
    assert (t1["dp_paper"], t1["dp_paper_source"], t1["dp_paper_verified"]) == (
        0.988, "S+X", True,
    )  # fmt: skip
    # Rows only the paper ran (L2H on TCL, all-pairs merging) are shown as the paper's rows.
    quoted = t[t["n_seeds"] == 0]
    assert set(zip(quoted["dataset"], quoted["method"], quoted["model"], strict=True)) >= {
        ("cifar10", "l2h", "tcl"), ("cifar100", "l2h", "tcl"),
        ("cifar100", "l2h_all_pairs", "turtle"),
    }  # fmt: skip
    text = to_markdown(t)
    assert "| L2H-TCL (paper) |" in text
    assert "| L2H-TURTLE, all-pairs merging (paper) |" in text
    assert "nmi_mean" not in t.columns  # flat scores do not depend on the aggregation
    sup = t[t["model"] == "supervised"].iloc[0]
    assert sup["lca_spearman_mean"] == pytest.approx(0.41)


def test_level_table_orders_levels_coarse_to_fine(metrics):
    t = level_table(metrics)
    assert set(t["dataset"]) == {"cifar100"}  # the only dataset with levels
    assert list(t["level"]) == ["superclass", "class"]
    sup = t.iloc[0]
    assert (sup["nmi_mean"], sup["acc_mean"], sup["dp_mean"]) == pytest.approx((0.61, 0.62, 0.63))


def test_level_table_known_order_for_inat_levels():
    rows = [
        ("inat21", "b", "turtle", "l2h", "cluster_mean", 5, 0, "test", level, "nmi", 0.5)
        for level in ("order", "class", "kingdom", "phylum")
    ]
    t = level_table(pd.DataFrame(rows, columns=list(COLUMNS)))
    assert list(t["level"]) == ["kingdom", "phylum", "order", "class"]


def test_supervised_table(metrics):
    t = supervised_table(metrics)
    assert len(t) == 1 and t["dataset"].iloc[0] == "imagenet"
    cols = [c for c in t.columns if c.endswith("_mean")]
    assert cols == ["lca_spearman_mean", "nmi_mean", "acc_mean", "dp_mean"]
    assert t["nmi_mean"].iloc[0] == pytest.approx(0.81)


# ------------------------------------------------------------------------- writers


def test_to_markdown_shape_and_sources_note(metrics, paper):
    t = table1(metrics, paper)
    text = to_markdown(t, caption="Table 1")
    lines = [line for line in text.splitlines() if line.startswith("|")]
    assert len(lines) == len(format_table(t)) + 2
    assert "**0.910 ± 0.010**" in text  # the best NMI of CIFAR-10 in bold
    assert {line.count("|") for line in lines} == {len(format_table(t).columns) + 1}
    assert "unverified" in text and "Deep Taxonomic Networks" in text
    assert "LHD" not in text
    assert "sources" not in to_markdown(table1(metrics))


def test_quoted_temi_numbers_carry_the_checkpoint_note(metrics, paper):
    t = table1(metrics, paper)
    assert (t["model"] == "temi").any() and t.loc[t["model"] == "temi", "dp_paper"].notna().all()
    for text in (to_markdown(t), to_latex(t)):
        assert "how its TEMI model was chosen" in text and "final TEMI model" in text
    no_temi = table7(metrics, paper)  # quotes TURTLE and TCL rows only
    assert not (no_temi["model"] == "temi").any()
    assert "Deep Taxonomic Networks" in to_markdown(no_temi)
    assert "TEMI" not in to_markdown(no_temi)


def test_to_latex_escapes_and_balances(metrics, paper):
    text = to_latex(table1(metrics, paper), caption="T1 100%", label="tab:t1")
    assert text.count(r"\begin{tabular}") == 1 and text.count(r"\end{table}") == 1
    assert r"$\pm$" in text and "±" not in text
    assert "CLIP ViT-L/14" in text and "vitl14" not in text and r"100\%" in text
    assert r"\textbf{0.910 $\pm$ 0.010}" in text
    assert r"\label{tab:t1}" in text
    body = [line for line in text.splitlines() if line.endswith(r"\\")]
    n_cols = len(format_table(table1(metrics, paper)).columns)
    assert all(line.count(" & ") == n_cols - 1 for line in body)


def test_to_csv_round_trips_numbers(metrics, tmp_path):
    t = table1(metrics)
    path = tmp_path / "t.csv"
    path.write_text(to_csv(t))
    back = pd.read_csv(path, keep_default_na=False, na_values=[""])
    np.testing.assert_allclose(back["nmi_mean"], t["nmi_mean"])


def test_write_tables_writes_every_table_and_placeholders(tmp_path, metrics):
    csv = tmp_path / "metrics.csv"
    metrics.to_csv(csv, index=False)
    written = write_tables(csv, tmp_path / "tables")
    names = sorted(p.name for p in written)
    expected = sorted(
        f"{t}.{s}"
        for t in ("table1", "table7", "levels", "supervised")
        for s in ("csv", "md", "tex", "html")
    )
    assert names == expected
    assert "[S+X]" in (tmp_path / "tables" / "table1.md").read_text()
    # Table 1 is split into a leaf-level and a hierarchy-level part, to fit a page.
    tex = (tmp_path / "tables" / "table1.tex").read_text()
    assert tex.count(r"\begin{tabular}") == 2 and r"\label{tab:table1-b}" in tex
    # A study without supervised rows still gets the three files, saying so.
    only_c10 = metrics[metrics["dataset"] == "cifar10"]
    only_c10.to_csv(csv, index=False)
    write_tables(csv, tmp_path / "t2")
    for suffix in ("csv", "md", "tex", "html"):
        assert NO_ROWS in (tmp_path / "t2" / f"supervised.{suffix}").read_text()
        assert NO_ROWS in (tmp_path / "t2" / f"levels.{suffix}").read_text()
    assert NO_ROWS not in (tmp_path / "t2" / "table1.csv").read_text()
    assert not list((tmp_path / "t2").glob(".*tmp*"))  # atomic writes leave no temporaries


def test_table1_metrics_constant():
    assert TABLE1_METRICS == ("nmi", "ari", "acc", "dp", "lp")


def test_validate_metrics_keeps_float_values_exactly(metrics):
    frame = metrics.copy()
    frame.loc[0, "value"] = 0.1 + 0.2
    assert validate_metrics(frame).loc[0, "value"] == 0.1 + 0.2


def test_write_tables_puts_a_note_first_in_every_caption(tmp_path, metrics):
    csv = tmp_path / "metrics.csv"
    metrics.to_csv(csv, index=False)
    note = "REHEARSAL: the numbers mean nothing"
    write_tables(csv, tmp_path / "tables", note=note)
    for name in ("table1", "table7", "levels", "supervised"):
        assert (tmp_path / "tables" / f"{name}.md").read_text().startswith(f"**{note}. ")
        assert f"{note}. " in (tmp_path / "tables" / f"{name}.tex").read_text()
        assert note not in (tmp_path / "tables" / f"{name}.csv").read_text()  # data only


def test_leaf_count_column_where_a_tree_has_fewer_leaves_than_k(metrics):
    leaves = [
        ("cifar10", "pixels", "none", "deepect", "none", 10, s, "test", "class", "n_leaves", n)
        for s, n in ((0, 4), (1, 4), (2, 6))
    ]
    leaves += [
        ("cifar10", "clip_vitl14+dinov2_vitg14", "turtle", "l2h", "cluster_mean", 10, s, "test",
         "class", "n_leaves", 10)
        for s in (0, 1, 2)
    ]  # fmt: skip
    with_leaves = pd.concat([metrics, pd.DataFrame(leaves, columns=list(COLUMNS))])
    t = table1(with_leaves[with_leaves["dataset"] == "cifar10"])
    shown = format_table(t).set_index("Method")
    assert shown.loc["DeepECT on raw pixels", "Leaves"] == "4–6 of 10"
    assert shown.loc["L2H-TURTLE", "Leaves"] == "10"
    assert "fewer leaves than the K clusters" in to_markdown(t)
    # Without a pruned tree there is no Leaves column.
    assert "Leaves" not in format_table(table1(metrics)).columns


def test_best_value_is_the_lowest_for_mistake_severity():
    rows = [
        ("imagenet", "b", "supervised", "l2h", agg, 1000, 0, "test", "class", m, v)
        for agg, m, v in (
            ("cluster_mean", "mistake_severity", 2.0), ("point_sum", "mistake_severity", 3.0),
            ("cluster_mean", "dp", 0.5), ("point_sum", "dp", 0.6),
        )
    ]  # fmt: skip
    text = to_markdown(
        table7(pd.DataFrame(rows, columns=list(COLUMNS)), scores=("dp", "mistake_severity"))
    )
    assert "| cluster mean | 1 | 0.500 | **2.000** |" in text
    assert "| point sum | 1 | **0.600** | 3.000 |" in text
