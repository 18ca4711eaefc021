"""Pure small-number suppression for published tables.

Primary: a group smaller than `min_group` is not published. Secondary: within each dimension the
groups add up to a total anyone can learn (the overall row, or any other dimension's table, which
counts the same people), so one suppressed group could be recovered by subtraction. More groups are
suppressed, smallest first, until at least two are hidden and together they hold at least
`min_group` — then no subtraction from the published figures isolates any of them.
"""

from __future__ import annotations

import pandas as pd


def suppression_mask(table: pd.DataFrame, *, count: str, min_group: int) -> pd.Series:
    """True for the rows to hide: primary (count < min_group, but > 0) and secondary, per dimension."""
    hide = pd.Series(False, index=table.index)
    for _, rows in table.groupby("dimension", sort=False):
        counts = rows[count].astype(int)
        hidden = counts.index[(counts > 0) & (counts < min_group)].tolist()
        if not hidden:
            continue
        others = counts.drop(hidden).sort_values(kind="stable")
        for index in others.index:
            if len(hidden) >= 2 and counts[hidden].sum() >= min_group:
                break
            hidden.append(index)
        hide[hidden] = True
    return hide
