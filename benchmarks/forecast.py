"""Forecast model benchmark on the demo's territory hierarchy: which base model the report uses; prints JSON.

Every candidate goes through the same MinT-WLS reconciliation and the same rolling-origin backtest
(``engine.forecast.backtest``: 12 origins over the last 12 months, horizons 1-3), so only the base model
differs:

- ``seasonal_trend``: ours (numpy least squares on log sales: level, trend, month effects);
- ``statsmodels_ets``: statsmodels ``ETSModel`` (additive error, damped additive trend, additive season);
- ``statsforecast_autoets``: statsforecast ``AutoETS`` (season 12, model chosen by AICc per series).

A peer whose package is missing is reported with ``"status": "not installed"``, never skipped silently.
Usage: ``python benchmarks/forecast.py [--project demo/demo.gpkg] [--methods a,b] [--out FILE]``
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np

from territory_desktop.engine.forecast import backtest, seasonal_trend
from territory_desktop.services.kpi import territory_series
from territory_desktop.services.project import open_project

Z95 = 1.959964


def statsmodels_ets(y: np.ndarray, h: int):
    import pandas as pd
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    mean, sd = np.zeros((len(y), h)), np.zeros((len(y), h))
    index = pd.date_range("2000-01-01", periods=y.shape[1], freq="MS")
    for i, values in enumerate(np.asarray(y, dtype=float)):
        series = pd.Series(values, index=index)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = ETSModel(series, error="add", trend="add", damped_trend=True, seasonal="add",
                           seasonal_periods=12).fit(disp=False)
            pred = fit.get_prediction(start=len(series), end=len(series) + h - 1)
        mean[i], sd[i] = np.asarray(pred.predicted_mean), np.sqrt(np.asarray(pred.var_pred_mean))
    return mean, sd, sd[:, 0] ** 2 + 1e-9


def statsforecast_autoets(y: np.ndarray, h: int):
    from statsforecast.models import AutoETS

    mean, sd = np.zeros((len(y), h)), np.zeros((len(y), h))
    for i, series in enumerate(np.asarray(y, dtype=float)):
        out = AutoETS(season_length=12).forecast(y=series, h=h, level=[95])
        mean[i], sd[i] = out["mean"], (out["hi-95"] - out["mean"]) / Z95
    return mean, sd, sd[:, 0] ** 2 + 1e-9


METHODS = {"seasonal_trend": seasonal_trend(), "statsmodels_ets": statsmodels_ets,
           "statsforecast_autoets": statsforecast_autoets}


def run_method(name: str, series) -> dict:
    start = time.perf_counter()
    try:
        result = backtest(series.hierarchy, series.bottom, base=METHODS[name])
    except ImportError as exc:
        return {"status": "not installed", "error": str(exc)}
    return {"status": "ok", "seconds": round(time.perf_counter() - start, 2),
            "levels": {k: {m: round(v, 4) for m, v in s.items()} for k, s in result.items()}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--project", default="demo/demo.gpkg")
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--out")
    args = ap.parse_args()
    series = territory_series(open_project(args.project))
    report = {"project": args.project, "series": int(series.hierarchy.S.shape[0]),
              "months": int(series.bottom.shape[1]),
              "methods": {m: run_method(m, series) for m in args.methods.split(",")}}
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(text + "\n")


if __name__ == "__main__":
    main()
