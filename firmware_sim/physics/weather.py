"""A synthetic English year: monthly means, a diurnal cycle, day-to-day weather, a cold snap,
a heatwave and rain, all from a seed. Time (Unix seconds, UTC) is an argument.

Monthly climate: Met Office UK climate averages 1991–2020, England region (mean, daily range,
days with ≥ 1 mm rain) — *secondary*: rounded values as published on the Met Office climate
summaries pages. Global horizontal irradiation: CIBSE Guide J / PVGIS, London (*secondary*).
Outdoor RH: Met Office averages for southern England (*secondary*).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

MONTHLY_MEAN_C = (4.6, 4.8, 6.6, 8.9, 12.0, 14.9, 17.0, 16.8, 14.4, 11.0, 7.4, 4.9)
MONTHLY_DAILY_RANGE_K = (5.8, 6.3, 7.5, 9.0, 9.8, 10.0, 10.0, 9.6, 8.8, 7.5, 6.1, 5.6)
MONTHLY_RAIN_DAYS = (12, 10, 10, 9, 9, 8, 8, 9, 9, 11, 12, 12)
MONTHLY_MEAN_RH_PCT = (87, 84, 80, 76, 75, 75, 75, 77, 80, 85, 88, 88)
MONTHLY_GLOBAL_KWH_M2_DAY = (0.7, 1.3, 2.3, 3.6, 4.6, 5.0, 4.9, 4.1, 2.9, 1.7, 0.9, 0.6)
LATITUDE_DEG = 52.0  # central England
DAY_TO_DAY_SD_K = 2.2  # day-to-day anomaly of the daily mean — a setting fitted by eye to HadCET
DAY_TO_DAY_AUTOCORRELATION = 0.7
COLD_SNAP_ANOMALY_K = -7.0  # e.g. "Beast from the East", Feb–Mar 2018: CET ~7 K below normal
COLD_SNAP_DAYS = 7
HEATWAVE_ANOMALY_K = 8.0  # e.g. July 2022: daily means ~8 K above normal, maxima > 35 °C
HEATWAVE_DAYS = 6
RAIN_MM_PER_RAIN_DAY = 5.0  # England ~ 830 mm / ~120 rain days ≈ 7 mm; median lower — a setting
_SECONDS_PER_DAY = 86400


@dataclass(frozen=True)
class WeatherYear:
    """One synthetic year's daily series (index 0 = 1 January)."""

    year: int
    daily_anomaly_k: np.ndarray
    cloudiness: np.ndarray
    rain_mm: np.ndarray
    cold_snap_start_day: int
    heatwave_start_day: int


def _month_profile(values: Sequence[float] | np.ndarray, day_of_year: np.ndarray) -> np.ndarray:
    """Smooth daily values from monthly means, interpolated between mid-month points."""
    mid = np.array([15.5 + 30.44 * i for i in range(12)])
    xs = np.concatenate([[mid[-1] - 365.25], mid, [mid[0] + 365.25]])
    ys = np.concatenate([[values[-1]], values, [values[0]]])
    return np.asarray(np.interp(day_of_year, xs, ys), dtype=float)


@lru_cache(maxsize=64)
def weather_year(seed: int, year: int) -> WeatherYear:
    """The synthetic weather of one year for a seed (deterministic)."""
    rng = np.random.default_rng([seed, year, 7411])
    days = 366
    noise = rng.normal(0.0, DAY_TO_DAY_SD_K * math.sqrt(1 - DAY_TO_DAY_AUTOCORRELATION**2), days)
    anomaly = np.zeros(days)
    for i in range(days):
        anomaly[i] = (
            anomaly[i - 1] if i else rng.normal(0, DAY_TO_DAY_SD_K)
        ) * DAY_TO_DAY_AUTOCORRELATION + noise[i]
    cold_start = int(rng.integers(10, 50))  # mid-January to mid-February
    heat_start = int(rng.integers(192, 204))  # mid-July
    ramp = np.sin(np.linspace(0.2, math.pi - 0.2, COLD_SNAP_DAYS))
    anomaly[cold_start : cold_start + COLD_SNAP_DAYS] = COLD_SNAP_ANOMALY_K * ramp
    ramp = np.sin(np.linspace(0.2, math.pi - 0.2, HEATWAVE_DAYS))
    anomaly[heat_start : heat_start + HEATWAVE_DAYS] = HEATWAVE_ANOMALY_K * ramp
    doy = np.arange(days, dtype=float)
    rain_prob = _month_profile(np.array(MONTHLY_RAIN_DAYS) / 30.44, doy)
    raining = rng.random(days) < rain_prob
    raining[heat_start : heat_start + HEATWAVE_DAYS] = False
    rain_mm = np.where(raining, rng.exponential(RAIN_MM_PER_RAIN_DAY, days), 0.0)
    cloudiness = np.clip(rng.normal(1.0, 0.35, days) - 0.25 * raining, 0.15, 1.6)
    cloudiness[heat_start : heat_start + HEATWAVE_DAYS] = 1.5
    return WeatherYear(year, anomaly, cloudiness, rain_mm, cold_start, heat_start)


def _civil_year_and_day(epoch_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    days = (epoch_s // _SECONDS_PER_DAY).astype("int64")
    dates = days.astype("datetime64[D]")
    years = dates.astype("datetime64[Y]").astype(int) + 1970
    day_of_year = (dates - dates.astype("datetime64[Y]")).astype(int)
    return years, day_of_year


@dataclass(frozen=True)
class Outdoor:
    """Outdoor conditions at some instants."""

    temperature_c: np.ndarray
    humidity_pct: np.ndarray
    horizontal_w_m2: np.ndarray
    rain_mm_per_h: np.ndarray
    daily_mean_c: np.ndarray


def outdoor_at(seed: int, epoch_s: float | np.ndarray) -> Outdoor:
    """Outdoor temperature, RH, horizontal irradiance and rain at the given instants (UTC s)."""
    ts = np.atleast_1d(np.asarray(epoch_s, dtype=float))
    years, doy = _civil_year_and_day(ts)
    anomaly = np.empty_like(ts)
    cloud = np.empty_like(ts)
    rain = np.empty_like(ts)
    for year in np.unique(years):
        wy = weather_year(seed, int(year))
        sel = years == year
        anomaly[sel] = wy.daily_anomaly_k[doy[sel]]
        cloud[sel] = wy.cloudiness[doy[sel]]
        rain[sel] = wy.rain_mm[doy[sel]]
    doy_f = doy.astype(float)
    mean_c = _month_profile(np.array(MONTHLY_MEAN_C), doy_f) + anomaly
    range_k = _month_profile(np.array(MONTHLY_DAILY_RANGE_K), doy_f) * np.clip(cloud, 0.6, 1.4)
    hour = (ts % _SECONDS_PER_DAY) / 3600.0
    temperature = mean_c + range_k / 2.0 * np.cos(2 * math.pi * (hour - 15.0) / 24.0)

    mean_rh = _month_profile(np.array(MONTHLY_MEAN_RH_PCT, dtype=float), doy_f)
    humidity = np.clip(mean_rh - 1.8 * (temperature - mean_c) + 4.0 * (rain > 0), 35.0, 100.0)

    declination = math.radians(23.45) * np.sin(2 * math.pi * (284 + doy_f + 1) / 365.0)
    lat = math.radians(LATITUDE_DEG)
    hour_angle = np.radians(15.0 * (hour - 12.0))
    sin_alt = np.sin(lat) * np.sin(declination) + np.cos(lat) * np.cos(declination) * np.cos(
        hour_angle
    )
    cos_ws = np.clip(-np.tan(lat) * np.tan(declination), -1, 1)
    ws = np.arccos(cos_ws)
    daily_sin_integral_h = (
        24.0
        / math.pi
        * (np.sin(lat) * np.sin(declination) * ws + np.cos(lat) * np.cos(declination) * np.sin(ws))
    )
    daily_kwh = _month_profile(np.array(MONTHLY_GLOBAL_KWH_M2_DAY), doy_f) * cloud
    horizontal = np.where(
        sin_alt > 0, daily_kwh * 1000.0 * sin_alt / np.maximum(daily_sin_integral_h, 1e-6), 0.0
    )
    rain_h = np.where((hour >= 6) & (hour < 18), rain / 12.0, 0.0)
    return Outdoor(temperature, humidity, horizontal, rain_h, mean_c)


def heatwave_start_epoch_s(seed: int, year: int) -> int:
    """The first midnight (UTC) of the heatwave in a year."""
    wy = weather_year(seed, year)
    jan1 = int(np.datetime64(f"{year}-01-01", "s").astype("int64"))
    return jan1 + wy.heatwave_start_day * _SECONDS_PER_DAY


def cold_snap_start_epoch_s(seed: int, year: int) -> int:
    """The first midnight (UTC) of the cold snap in a year."""
    wy = weather_year(seed, year)
    jan1 = int(np.datetime64(f"{year}-01-01", "s").astype("int64"))
    return jan1 + wy.cold_snap_start_day * _SECONDS_PER_DAY
