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


# The public page's groups (issue 12): a fixed list per dimension, every category listed whether
# or not anyone is in it, so the labels of suppressed rows reveal nothing about which small groups
# exist. Values outside the list are folded into "not recorded"; ages into three broad bands
# (from the first number of the band: registries write their bands differently).
NOT_RECORDED = "not recorded"
PUBLIC_CATEGORIES: dict[str, tuple[str, ...]] = {
    "ethnicity": ("Asian", "Black", "Mixed", "White", "Other", "Not known", NOT_RECORDED),
    "disability": ("yes", "no", "not known", NOT_RECORDED),
    "age_band": ("under 35", "35 to 64", "65 and over", NOT_RECORDED),
    "imd_decile": (*(str(d) for d in range(1, 11)), NOT_RECORDED),
}


def _broad_age(band: object) -> str:
    digits = ""
    for char in str(band):
        if char.isdigit():
            digits += char
        elif digits:
            break
    if not digits:
        return NOT_RECORDED
    start = int(digits)
    return "under 35" if start < 35 else "35 to 64" if start < 65 else "65 and over"


def public_categories(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with each public dimension's values mapped onto its fixed list."""
    out = frame.copy()
    for dimension, levels in PUBLIC_CATEGORIES.items():
        if dimension not in out:
            continue
        values = out[dimension].astype(str)
        if dimension == "age_band":
            values = values.map(_broad_age)
        out[dimension] = values.where(values.isin(levels), NOT_RECORDED)
    return out


def every_category(table: pd.DataFrame) -> pd.DataFrame:
    """The published table with one row per fixed category, in the list's order; a category with
    nobody in it is a suppressed row like any small group."""
    rows = []
    for dimension, levels in PUBLIC_CATEGORIES.items():
        own = table[table["dimension"] == dimension].set_index("level")
        for level in levels:
            if level in own.index and not bool(own.loc[level, "suppressed"]):
                rows.append({"dimension": dimension, "level": level, **own.loc[level].to_dict()})
            else:
                rows.append({"dimension": dimension, "level": level, "suppressed": True})
    out = pd.DataFrame(rows, columns=table.columns)
    out["suppressed"] = out["suppressed"].astype(bool)
    return out
