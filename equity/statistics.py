"""Pure interval estimates and tests for the equity tables (no I/O).

- Wilson score interval for a proportion (Wilson 1927; Newcombe 1998, method 3).
- Distribution-free exact interval for a median from order statistics (Conover, *Practical
  Nonparametric Statistics*, 3rd ed., §3.2): ranks r and n+1-r with Binomial(n, ½) coverage ≥ 1-α.
- 2×2 test of a group against the rest: Fisher's exact test when an expected count is under 5,
  else Pearson's chi-square with Yates' correction (Cochran's rule).
- Benjamini–Hochberg (1995) step-up adjusted p-values (q-values).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats


def wilson_interval(events: int, n: int, *, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for events/n; (nan, nan) when n is 0."""
    if n == 0:
        return (math.nan, math.nan)
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    p = events / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return (max(0.0, centre - half), min(1.0, centre + half))


def median_interval(
    values: Sequence[float] | np.ndarray, *, confidence: float = 0.95
) -> tuple[float, float]:
    """Exact distribution-free interval for the median; (nan, nan) when too few values for the level."""
    x = np.sort(np.asarray(values, dtype=float))
    n = len(x)
    alpha = 1 - confidence
    if n == 0:
        return (math.nan, math.nan)
    # largest r with P(B <= r-1) <= alpha/2, B ~ Binomial(n, 1/2)
    r = int(stats.binom.ppf(alpha / 2, n, 0.5))
    while r >= 1 and stats.binom.cdf(r - 1, n, 0.5) > alpha / 2:
        r -= 1
    while stats.binom.cdf(r, n, 0.5) <= alpha / 2:
        r += 1
    if r < 1:
        return (math.nan, math.nan)
    return (float(x[r - 1]), float(x[n - r]))


@dataclass(frozen=True)
class TestResult:
    test: str  # fisher | chi2
    p_value: float


def group_vs_rest(events: int, n: int, rest_events: int, rest_n: int) -> TestResult:
    """Fisher's exact or Yates-corrected chi-square test of a 2×2 table: group against the rest."""
    table = np.array([[events, n - events], [rest_events, rest_n - rest_events]], dtype=float)
    if n == 0 or rest_n == 0:
        return TestResult("none", math.nan)
    column = table.sum(axis=0)
    if column.min() == 0:
        return TestResult("none", 1.0)
    expected = np.outer(table.sum(axis=1), column) / table.sum()
    if expected.min() < 5:
        return TestResult("fisher", float(stats.fisher_exact(table.astype(int)).pvalue))
    return TestResult("chi2", float(stats.chi2_contingency(table, correction=True).pvalue))


def benjamini_hochberg(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values; NaNs stay NaN and are not counted as tests."""
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    tested = ~np.isnan(p)
    m = int(tested.sum())
    if m == 0:
        return out
    order = np.argsort(p[tested])
    ranked = p[tested][order] * m / np.arange(1, m + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1]
    values = np.empty(m)
    values[order] = np.minimum(adjusted, 1.0)
    out[tested] = values
    return out
