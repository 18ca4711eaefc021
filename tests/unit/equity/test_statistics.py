"""Interval estimates and tests against independent references (statsmodels, scipy, published values)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

from equity.statistics import benjamini_hochberg, group_vs_rest, median_interval, wilson_interval

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("events", "n"), [(0, 10), (1, 10), (5, 10), (10, 10), (37, 412), (3, 9999)]
)
def test_wilson_matches_statsmodels(events, n):
    low, high = proportion_confint(events, n, alpha=0.05, method="wilson")
    assert wilson_interval(events, n) == pytest.approx((low, high), abs=1e-12)


def test_wilson_published_value():
    # Newcombe (1998) Table I, example 81/263: Wilson 0.2553 to 0.3662
    low, high = wilson_interval(81, 263)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)


@pytest.mark.parametrize("n", [6, 7, 10, 11, 30, 101, 1000])
def test_median_interval_matches_scipy_quantile_test(n):
    x = np.random.default_rng(n).gamma(2.0, 3.0, n)
    reference = stats.quantile_test(x, q=float(np.median(x)), p=0.5).confidence_interval(0.95)
    assert median_interval(x) == pytest.approx((reference.low, reference.high))


def test_median_interval_too_few_values():
    assert all(math.isnan(v) for v in median_interval([1.0, 2.0, 3.0, 4.0, 5.0]))


def test_median_interval_covers_the_true_median_at_least_95_percent():
    rng = np.random.default_rng(7)
    true_median = 3.0 * stats.gamma(2.0).median()
    covered = 0
    for _ in range(2000):
        low, high = median_interval(rng.gamma(2.0, 3.0, 40))
        covered += low <= true_median <= high
    assert covered / 2000 >= 0.94


def test_fisher_for_small_tables_published_value():
    # Fisher's tea-tasting experiment: [[3, 1], [1, 3]], two-sided p = 34/70
    result = group_vs_rest(3, 4, 1, 4)
    assert result.test == "fisher"
    assert result.p_value == pytest.approx(34 / 70)


def test_chi_square_with_yates_for_large_tables():
    result = group_vs_rest(60, 200, 100, 800)
    table = np.array([[60, 140], [100, 700]])
    chi2 = (abs(60 * 700 - 140 * 100) - 1000 / 2) ** 2 * 1000 / (200 * 800 * 160 * 840)
    assert result.test == "chi2"
    assert result.p_value == pytest.approx(stats.chi2.sf(chi2, 1))
    assert result.p_value == pytest.approx(stats.chi2_contingency(table).pvalue)


def test_benjamini_hochberg_matches_statsmodels():
    p = np.random.default_rng(3).uniform(0, 0.2, 40)
    p[:5] = [0.0001, 0.0004, 0.002, 0.01, 0.03]
    expected = multipletests(p, method="fdr_bh")[1]
    assert benjamini_hochberg(p) == pytest.approx(expected)


def test_benjamini_hochberg_leaves_untested_rows_out():
    p = np.array([0.01, np.nan, 0.04, 0.03])
    expected = multipletests([0.01, 0.04, 0.03], method="fdr_bh")[1]
    out = benjamini_hochberg(p)
    assert math.isnan(out[1])
    assert out[[0, 2, 3]] == pytest.approx(expected)
