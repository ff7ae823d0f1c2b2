"""Test oracle: a plain, slow transcription of the L2H listing (paper Figure 4 / Appendix A).

Written from the prose description in ``shared/notes/paper.md`` §1.3. It is deliberately naive
(every step rescans all points and re-softmaxes the lowest-score group over all columns), so it
is only usable on small inputs. Two changes to the listing, both where it is undefined or
where a check needs more information:

* a cluster with no assigned point has score 0 (the listing takes the mean of an empty slice,
  which is NaN and makes ``min`` depend on ordering);
* each decision records its margin, so tests can tell a genuine difference from a *near tie*:
  a choice whose runner-up is within ``tol`` (relative) of the winner (two values that are
  both exactly 0, such as the scores of two empty clusters, are an exact tie, not a near
  one). Near ties are reported for the lowest-score group, the merge target, and for every
  point whose (masked) argmax has a runner-up within ``tol`` of the winning probability.

The aggregations other than the default are the variants of the paper's Table 7 as the
``l2h`` package defines them: ``point_sum`` (sum of the confidences of all points in the
group) and ``point_mean`` (their mean, 0 for a group without points).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import softmax

Step = tuple[tuple[int, ...], tuple[int, ...]]


@dataclass
class OracleResult:
    """Steps of the listing and the indices of the steps that follow a near tie."""

    steps: list[Step]
    near_ties: list[int] = field(default_factory=list)

    @property
    def first_near_tie(self) -> int:
        """Index of the first step whose outcome a near tie may change (len(steps) if none)."""
        return min(self.near_ties, default=len(self.steps))


def _is_near(best: float, runner_up: float, tol: float) -> bool:
    if best == runner_up == 0:  # e.g. two empty clusters: exactly 0 in any implementation
        return False
    scale = max(abs(best), abs(runner_up), 1e-300)
    return abs(best - runner_up) <= tol * scale


def _argmax_is_near(probs: np.ndarray, tol: float) -> bool:
    """True when some row's two largest values are within ``tol`` (relative)."""
    if probs.shape[1] < 2 or probs.shape[0] == 0:
        return False
    top2 = -np.sort(-probs, axis=1)[:, :2]
    return bool(np.any(top2[:, 0] - top2[:, 1] <= tol * top2[:, 0]))


def _group_score(group, assignments, pred_probs, aggregation) -> float:
    if aggregation == "cluster_mean":
        total = 0
        for c in group:
            members = pred_probs[assignments == c]
            total = total + (np.mean(members) if members.size else 0.0)
        return total
    members = pred_probs[np.isin(assignments, group)]
    if aggregation == "point_sum":
        return np.sum(members)
    if aggregation == "point_mean":
        return np.mean(members) if members.size else 0.0
    raise ValueError(aggregation)


def l2h_oracle(logits, aggregation: str = "cluster_mean", tol: float = 1e-6) -> OracleResult:
    """Run the listing on ``logits`` (as float64) and report near ties.

    Parameters
    ----------
    logits : array-like of shape (N, K)
    aggregation : {"cluster_mean", "point_sum", "point_mean"}
    tol : float
        Relative margin under which a decision counts as a near tie.
    """
    logits = np.asarray(logits, dtype=np.float64)
    n_clusters = logits.shape[1]
    groups: list[tuple[int, ...]] = [(c,) for c in range(n_clusters)]
    result = OracleResult(steps=[])

    probs = softmax(logits, axis=1)
    assignments = np.argmax(probs, axis=1)
    pred_probs = np.max(probs, axis=1)
    if _argmax_is_near(probs, tol):
        result.near_ties.append(0)

    for step in range(n_clusters - 1):
        scores = {g: _group_score(g, assignments, pred_probs, aggregation) for g in groups}
        lsg = min(scores, key=scores.get)
        others = sorted(v for g, v in scores.items() if g != lsg)
        if others and _is_near(scores[lsg], others[0], tol):
            result.near_ties.append(step)

        rows = logits[np.isin(assignments, lsg)]
        keep = [c for c in range(n_clusters) if c not in lsg]
        masked = np.zeros_like(rows)
        masked[:, keep] = softmax(rows[:, keep], axis=1)
        if _argmax_is_near(masked[:, keep], tol):
            result.near_ties.append(step)
        reassigned = np.argmax(masked, axis=1)
        re_probs = np.max(masked, axis=1) if rows.shape[0] else np.zeros(0)

        values = {
            g: np.mean([np.sum(re_probs[reassigned == c]) for c in g]) for g in groups if g != lsg
        }
        mtg = max(values, key=values.get)
        ranked = sorted(values.values(), reverse=True)
        if len(ranked) > 1 and _is_near(ranked[0], ranked[1], tol):
            result.near_ties.append(step)

        groups = [g for g in groups if g not in (lsg, mtg)] + [lsg + mtg]
        result.steps.append((lsg, mtg))
    return result
