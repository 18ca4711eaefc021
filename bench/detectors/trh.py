"""The fast path over the real TRH measurements (TRH-tietokanta, CC BY 4.0): rooms and roof spaces.

.venv/bin/python -m bench.detectors.trh
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from detectors.fleet import (
    OCCUPIED_ONLY,
    UNOCCUPIED_ROOMS,
    FleetState,
    HourBatch,
    SiteInfo,
    fold_hours,
)

TRH = Path(__file__).resolve().parents[2] / "data" / "trh"  # data/trh/README.md
FILES = (
    ("R3_omakotitalo_YP2_indoor1.csv", "R3_omakotitalo_YP2_fmi.csv", "living"),
    ("R4_omakotitalo_YP1_indoor1.csv", None, "living"),
    ("R3_omakotitalo_YP2_roofleft_infrontofeave.csv", None, "other"),
    ("R4_omakotitalo_YP1_roofnorth_airtop.csv", None, "other"),
)


def run(name: str, weather: str | None, room: str) -> str:
    """Fold one file hour by hour; summarise M and the findings."""
    raw = pd.read_csv(TRH / name)
    index = pd.DatetimeIndex(pd.to_datetime(raw["t_UTC+2"]) - pd.Timedelta(hours=2)).tz_localize(
        "UTC"
    )
    frame = pd.DataFrame(
        {"t": raw["T"].to_numpy(float), "rh": raw["RH"].to_numpy(float)}, index=index
    )
    frame = frame.resample("1h").mean()
    outdoor = np.full(len(frame), np.nan)
    if weather:
        w = pd.read_csv(TRH / weather)
        outdoor[: min(len(w), len(frame))] = w["Te"].to_numpy(float)[: len(frame)]
    state = FleetState()
    rows = state.rows([("trh", name)])
    sites = [SiteInfo(name, room)]
    findings: Counter[str] = Counter()
    m_max = 0.0
    for i, (label, row) in enumerate(frame.iterrows()):
        batch = HourBatch(
            rows,
            np.array([int(label.timestamp())]),
            np.array([row.t]),
            np.array([row.rh]),
            np.array([np.nan]),
            np.array([np.nan]),
            outdoor[i : i + 1],
        )
        findings.update(f.rule_key for f in fold_hours(state, batch, sites).findings)
        m_max = max(m_max, float(state["mould_m"][0]))
    return (
        f"{name:<48} {len(frame):>6} h  M max {m_max:5.2f}  M end {float(state['mould_m'][0]):5.2f}  "
        f"findings {dict(findings) or 'none'}"
    )


def main() -> int:
    """Print how unheated spaces are treated, then one line per file."""
    sys.stdout.write(
        f"room types {UNOCCUPIED_ROOMS} (roof spaces, unheated voids) are not lived in: the occupied-room rules "
        f"{', '.join(OCCUPIED_ONLY)} do not run there; the VTT mould index runs on the space's own air (no fRsi "
        f"surface correction) and is raised only when it reaches its level; damp and leak rules run as anywhere.\n"
    )
    for name, weather, room in FILES:
        sys.stdout.write(f"[{room:<6}] " + run(name, weather, room) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
