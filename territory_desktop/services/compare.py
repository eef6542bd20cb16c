"""Compare two scenarios of a project (Qt-free; the CLI ``compare``, the Compare Scenarios dialog and the
change report's XLSX and PDF all read one :class:`Comparison`).

Before = scenario ``a``, after = scenario ``b``. Ownership of every account in each scenario comes from
:func:`services.ownership.account_owners` (overrides, rule territories, then geography) and its rep from
:func:`services.ownership.account_reps`; revenue is the trailing 12 months of sales and pipeline the open
opportunities (:func:`services.kpi.account_performance`), so the numbers are the KPI dock's.

Disruption is counted at the relationship level: an account *changes rep* when its rep in ``b`` differs
from its rep in ``a`` (an account that loses its rep, or gains one, counts too); ``revenue_changing_rep``
and ``pipeline_changing_rep`` sum those accounts' T12M sales and open pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..models import Project
from .kpi import account_performance
from .metrics import account_workload
from .ownership import account_owners, account_reps
from .scenarios import scenario_name

__all__ = ["Comparison", "compare_scenarios", "comparison_sheets"]

#: per-account measures summed per territory: (column in the territory table, source column)
_SUMS = (("accounts", "one"), ("workload", "workload_hours"), ("potential", "potential"),
         ("revenue", "sales_t12m"), ("pipeline", "pipeline"))


@dataclass(frozen=True)
class Comparison:
    """Scenario ``a`` (before) against ``b`` (after).

    - ``units``: one row per unit whose territory differs: unit_id, name, territory_before, territory_after;
    - ``accounts``: one row per account whose territory or rep differs: account_id, name, unit_id,
      territory_before/after, rep_before/after, changes_rep, revenue_t12m, pipeline, potential;
    - ``territories``: one row per territory of either scenario (see :func:`_territory_table`);
    - ``reps``: one row per rep with accounts in either: accounts_before/after, accounts_gained/lost,
      revenue_gained/lost;
    - ``flows``: one row per (territory_before, territory_after) pair of moved units with units, accounts,
      revenue and the lon/lat centres of both territories (for the arrows of the diff map).
    """

    a: str
    b: str
    a_name: str
    b_name: str
    units: pd.DataFrame
    accounts: pd.DataFrame
    territories: pd.DataFrame
    reps: pd.DataFrame
    flows: pd.DataFrame
    totals: dict

    def to_json(self) -> dict:
        """The ``compare --json`` document; ``units_moved``, ``accounts_changing_rep``, ``revenue_changing_rep``
        and the ``territories`` keys territory_id, units_before, units_after, gained, lost are a contract."""
        return {"a": self.a, "a_name": self.a_name, "b": self.b, "b_name": self.b_name, **self.totals,
                "territories": _records(self.territories), "reps": _records(self.reps),
                "units": _records(self.units), "accounts": _records(self.accounts)}


def _records(frame: pd.DataFrame) -> list[dict]:
    out = []
    for row in frame.to_dict("records"):
        out.append({k: (None if v is None or (isinstance(v, float) and np.isnan(v)) else
                        v.item() if isinstance(v, np.generic) else v) for k, v in row.items()})
    return out


def _account_frame(project: Project, a: str, b: str) -> pd.DataFrame:
    """Per account: owner and rep in both scenarios and the measures summed per territory."""
    acc = project.accounts
    perf = account_performance(project)
    frame = pd.DataFrame({"account_id": acc["account_id"].astype(str).to_numpy(),
                          "name": acc["name"].to_numpy(object) if "name" in acc else "",
                          "unit_id": acc["unit_id"].to_numpy(object),
                          "territory_before": account_owners(project, a).to_numpy(object),
                          "territory_after": account_owners(project, b).to_numpy(object),
                          "rep_before": account_reps(project, a).to_numpy(object),
                          "rep_after": account_reps(project, b).to_numpy(object),
                          "one": 1.0, "workload_hours": account_workload(project).to_numpy(float),
                          "potential": pd.to_numeric(acc["potential"], errors="coerce").fillna(0).to_numpy(float),
                          "sales_t12m": perf["sales_t12m"].to_numpy(float),
                          "pipeline": perf["pipeline"].to_numpy(float)})
    frame["changes_rep"] = _differs(frame["rep_before"], frame["rep_after"])
    frame["changes_territory"] = _differs(frame["territory_before"], frame["territory_after"])
    return frame


def _differs(before: pd.Series, after: pd.Series) -> np.ndarray:
    """True where two id columns differ; two missing values (None, NaN) are equal."""
    x, y = before.isna().to_numpy(), after.isna().to_numpy()
    same = (before.astype(str).to_numpy() == after.astype(str).to_numpy()) & ~x & ~y
    return ~(same | (x & y))


def _unit_frame(project: Project, a: str, b: str) -> pd.DataFrame:
    before, after = project.plans[a].as_dict(), project.plans[b].as_dict()
    ids = project.units["unit_id"].astype(str).tolist()
    names = project.units["name"].tolist() if "name" in project.units else ids
    return pd.DataFrame({"unit_id": ids, "name": names, "territory_before": [before.get(u) for u in ids],
                         "territory_after": [after.get(u) for u in ids]})


def _territory_ids(project: Project, a: str, b: str, units: pd.DataFrame, acc: pd.DataFrame) -> list[str]:
    listed = [*project.scenario_territories(a)["territory_id"].astype(str),
              *project.scenario_territories(b)["territory_id"].astype(str)]
    used = [*units["territory_before"], *units["territory_after"], *acc["territory_before"], *acc["territory_after"]]
    return list(dict.fromkeys([*listed, *[t for t in used if isinstance(t, str)]]))


def _territory_info(project: Project, sid: str) -> pd.DataFrame:
    t = project.scenario_territories(sid)
    return t.assign(territory_id=t["territory_id"].astype(str)).drop_duplicates("territory_id").set_index(
        "territory_id")


def _route_hours(project: Project, sid: str) -> dict[str, float]:
    from .workload import territory_workloads

    return {t: w.hours_per_year for t, w in territory_workloads(project, sid).items()}


def _territory_table(project: Project, a: str, b: str, units: pd.DataFrame, acc: pd.DataFrame,
                     route: bool) -> pd.DataFrame:
    """Per territory: name, rep before/after, units before/after, gained, lost, and before/after of
    accounts, workload (h/yr), route workload (h/yr, None without a rep home), potential, revenue (T12M)
    and pipeline; territories that change come first."""
    tids = _territory_ids(project, a, b, units, acc)
    ta, tb = _territory_info(project, a), _territory_info(project, b)
    out = pd.DataFrame({"territory_id": tids})
    out["name"] = [str(tb["name"].get(t, ta["name"].get(t, t))) for t in tids]
    out["rep_before"] = [_rep(ta, t) for t in tids]
    out["rep_after"] = [_rep(tb, t) for t in tids]
    moved = units[_differs(units["territory_before"], units["territory_after"])]
    for col, series in (("units_before", units["territory_before"]), ("units_after", units["territory_after"]),
                        ("gained", moved["territory_after"]), ("lost", moved["territory_before"])):
        out[col] = series.value_counts().reindex(tids).fillna(0).astype(int).to_numpy()
    for name, source in _SUMS:
        for side in ("before", "after"):
            sums = acc.groupby(f"territory_{side}")[source].sum()
            out[f"{name}_{side}"] = sums.reindex(tids).fillna(0.0).to_numpy()
            if name == "accounts":
                out[f"{name}_{side}"] = out[f"{name}_{side}"].astype(int)
        if name == "workload" and route:
            for side, sid in (("before", a), ("after", b)):
                hours = _route_hours(project, sid)
                out[f"route_workload_{side}"] = [hours.get(t) for t in tids]
    changed = (out["gained"] + out["lost"] > 0) | (out["accounts_before"] != out["accounts_after"]) \
        | _differs(out["rep_before"], out["rep_after"])
    return pd.concat([out[changed], out[~changed]], ignore_index=True)


def _rep(info: pd.DataFrame, tid: str) -> str | None:
    rep = info["rep_id"].get(tid) if tid in info.index else None
    return rep if isinstance(rep, str) else None


def _rep_table(project: Project, acc: pd.DataFrame) -> pd.DataFrame:
    reps = [r for r in dict.fromkeys([*acc["rep_before"], *acc["rep_after"]]) if isinstance(r, str)]
    names = project.reps.set_index(project.reps["rep_id"].astype(str))["name"] if len(project.reps) else {}
    moving = acc[acc["changes_rep"]]
    out = pd.DataFrame({"rep_id": reps, "name": [str(names.get(r, r)) for r in reps]})
    for col, key, source in (("accounts_before", acc["rep_before"], acc["one"]),
                             ("accounts_after", acc["rep_after"], acc["one"]),
                             ("accounts_gained", moving["rep_after"], moving["one"]),
                             ("accounts_lost", moving["rep_before"], moving["one"]),
                             ("revenue_gained", moving["rep_after"], moving["sales_t12m"]),
                             ("revenue_lost", moving["rep_before"], moving["sales_t12m"])):
        out[col] = source.groupby(key.to_numpy()).sum().reindex(reps).fillna(0.0).to_numpy() if len(key) else 0.0
    for col in ("accounts_before", "accounts_after", "accounts_gained", "accounts_lost"):
        out[col] = out[col].astype(int)
    affected = (out["accounts_gained"] + out["accounts_lost"]) > 0
    return pd.concat([out[affected], out[~affected]], ignore_index=True)


def _centres(project: Project, plan: dict[str, str | None]) -> dict[str, tuple[float, float]]:
    """Area-weighted mean of the unit centroids per territory (lon/lat): where an arrow starts or ends."""
    u = project.units
    if not len(u):
        return {}
    c = u.geometry.centroid if u.crs is None or not u.crs.is_geographic else \
        u.geometry.to_crs("EPSG:3857").centroid.to_crs(u.crs)
    w = u.geometry.to_crs("EPSG:3857").area.to_numpy() if u.crs is not None else np.ones(len(u))
    frame = pd.DataFrame({"t": [plan.get(x) for x in u["unit_id"].astype(str)], "x": c.x.to_numpy() * w,
                          "y": c.y.to_numpy() * w, "w": w}).dropna(subset=["t"])
    sums = frame.groupby("t")[["x", "y", "w"]].sum()
    return {t: (r.x / r.w, r.y / r.w) for t, r in sums.iterrows() if r.w > 0}


def _flow_table(project: Project, a: str, b: str, units: pd.DataFrame, acc: pd.DataFrame) -> pd.DataFrame:
    moved = units[_differs(units["territory_before"], units["territory_after"])]
    cols = ["territory_before", "territory_after", "units", "accounts", "revenue", "from_lon", "from_lat",
            "to_lon", "to_lat"]
    if not len(moved):
        return pd.DataFrame(columns=cols)
    before, after = _centres(project, project.plans[a].as_dict()), _centres(project, project.plans[b].as_dict())
    pairs = moved.fillna({"territory_before": "", "territory_after": ""}).groupby(
        ["territory_before", "territory_after"]).size()
    acc_moved = acc[acc["changes_territory"]].fillna({"territory_before": "", "territory_after": ""})
    acc_sums = acc_moved.groupby(["territory_before", "territory_after"])[["one", "sales_t12m"]].sum()
    rows = []
    for (ta, tb), n in pairs.items():
        f, t = before.get(ta, (np.nan, np.nan)), after.get(tb, (np.nan, np.nan))
        s = acc_sums.loc[(ta, tb)] if (ta, tb) in acc_sums.index else {"one": 0.0, "sales_t12m": 0.0}
        rows.append([ta or None, tb or None, int(n), int(s["one"]), float(s["sales_t12m"]), *f, *t])
    return pd.DataFrame(rows, columns=cols).sort_values("units", ascending=False, ignore_index=True)


def compare_scenarios(project: Project, a: str, b: str, route: bool = True) -> Comparison:
    """Compare scenario ``a`` (before) with ``b`` (after); ``route`` adds the route workload estimate
    (services.workload) per territory. Ids must exist (resolve names with ``scenarios.resolve_scenario``)."""
    units = _unit_frame(project, a, b)
    acc = _account_frame(project, a, b)
    moved_units = units[_differs(units["territory_before"], units["territory_after"])].reset_index(drop=True)
    changing = acc[acc["changes_rep"] | acc["changes_territory"]]
    rep_moves = acc[acc["changes_rep"]]
    totals = {"units_moved": len(moved_units), "units": len(units),
              "accounts_changing_territory": int(acc["changes_territory"].sum()),
              "accounts_changing_rep": len(rep_moves), "accounts": len(acc),
              "revenue_changing_rep": float(rep_moves["sales_t12m"].sum()),
              "revenue_t12m_total": float(acc["sales_t12m"].sum()),
              "pipeline_changing_rep": float(rep_moves["pipeline"].sum()),
              "pipeline_total": float(acc["pipeline"].sum()),
              "potential_changing_rep": float(rep_moves["potential"].sum())}
    shown = changing[["account_id", "name", "unit_id", "territory_before", "territory_after", "rep_before",
                      "rep_after", "changes_rep", "sales_t12m", "pipeline", "potential"]]
    shown = shown.rename(columns={"sales_t12m": "revenue_t12m"}).sort_values(
        ["changes_rep", "revenue_t12m"], ascending=False, ignore_index=True)
    return Comparison(a, b, scenario_name(project, a), scenario_name(project, b), moved_units, shown,
                      _territory_table(project, a, b, units, acc, route), _rep_table(project, acc),
                      _flow_table(project, a, b, units, acc), totals)


def comparison_sheets(c: Comparison) -> dict[str, pd.DataFrame]:
    """The change report as sheets (Summary, Territories, Reps, Accounts, Units) for the XLSX export."""
    summary = pd.DataFrame({"measure": ["scenario before", "scenario after", *c.totals],
                            "value": [f"{c.a_name} ({c.a})", f"{c.b_name} ({c.b})", *c.totals.values()]})
    return {"Summary": summary, "Territories": c.territories, "Reps": c.reps, "Accounts": c.accounts,
            "Units": c.units}


# ---------------------------------------------------------------- the change report's tables as text
#: (key, header, align, flex) like services.printing.ACCOUNT_COLUMNS: the PDF and the dialog show these
TERRITORY_REPORT_COLUMNS: list[tuple[str, str, str, float]] = [
    ("territory_id", "ID", "l", 0.6), ("name", "Territory", "l", 1.2), ("rep", "Rep", "l", 0.9),
    ("units", "Units", "r", 0.9), ("gained", "+", "r", 0.45), ("lost", "−", "r", 0.45),
    ("accounts", "Accounts", "r", 1.0), ("workload", "Workload h", "r", 1.2), ("route", "Route h", "r", 1.2),
    ("potential", "Potential", "r", 1.4), ("revenue", "Revenue T12M", "r", 1.6),
]
REP_REPORT_COLUMNS: list[tuple[str, str, str, float]] = [
    ("rep_id", "Rep", "l", 0.6), ("name", "Name", "l", 1.6), ("accounts", "Accounts", "r", 1.0),
    ("gained", "Gained", "r", 0.7), ("lost", "Lost", "r", 0.7), ("revenue_gained", "Revenue in", "r", 1.2),
    ("revenue_lost", "Revenue out", "r", 1.2),
]
ACCOUNT_REPORT_COLUMNS: list[tuple[str, str, str, float]] = [
    ("account_id", "ID", "l", 0.8), ("name", "Account", "l", 2.2), ("territory", "Territory", "l", 1.0),
    ("rep", "Rep", "l", 0.9), ("revenue", "Revenue T12M", "r", 1.2), ("pipeline", "Open pipeline", "r", 1.2),
]


def _num(value) -> str:
    return "–" if value is None or (isinstance(value, float) and np.isnan(value)) else f"{float(value):,.0f}"


def _arrow(before, after, fmt=_num) -> str:
    a, b = fmt(before), fmt(after)
    return a if a == b else f"{a} → {b}"


def _id(value) -> str:
    return value if isinstance(value, str) else "–"


def territory_report_rows(c: Comparison) -> list[tuple[str, ...]]:
    """The territory table as text, "before → after" where a value changes (columns TERRITORY_REPORT_COLUMNS)."""
    route = "route_workload_before" in c.territories
    rows: list[tuple[str, ...]] = []
    for r in c.territories.to_dict("records"):
        rows.append((str(r["territory_id"]), str(r["name"]), _arrow(r["rep_before"], r["rep_after"], _id),
                     _arrow(r["units_before"], r["units_after"]), str(r["gained"] or ""), str(r["lost"] or ""),
                     _arrow(r["accounts_before"], r["accounts_after"]), _arrow(r["workload_before"], r["workload_after"]),
                     _arrow(r["route_workload_before"], r["route_workload_after"]) if route else "–",
                     _arrow(r["potential_before"], r["potential_after"]), _arrow(r["revenue_before"], r["revenue_after"])))
    return rows


def rep_report_rows(c: Comparison) -> list[tuple[str, ...]]:
    """Reps whose accounts change, as text (columns REP_REPORT_COLUMNS)."""
    moved = c.reps[(c.reps["accounts_gained"] + c.reps["accounts_lost"]) > 0]
    return [(str(r["rep_id"]), str(r["name"]), _arrow(r["accounts_before"], r["accounts_after"]),
             str(r["accounts_gained"]), str(r["accounts_lost"]), _num(r["revenue_gained"]), _num(r["revenue_lost"]))
            for r in moved.to_dict("records")]


def account_report_rows(c: Comparison, limit: int = 0) -> list[tuple[str, ...]]:
    """Accounts that change rep, largest T12M revenue first (columns ACCOUNT_REPORT_COLUMNS); ``limit`` 0: all."""
    moving = c.accounts[c.accounts["changes_rep"]]
    moving = moving.head(limit) if limit else moving
    return [(str(r["account_id"]), str(r["name"]), _arrow(r["territory_before"], r["territory_after"], _id),
             _arrow(r["rep_before"], r["rep_after"], _id), _num(r["revenue_t12m"]), _num(r["pipeline"]))
            for r in moving.to_dict("records")]


def summary_lines(c: Comparison) -> list[tuple[str, str]]:
    """The disruption figures as (label, value) lines, for the PDF's side panel and the dialog."""
    t = c.totals

    def share(part: float, whole: float) -> str:
        return f" ({part / whole:.1%})" if whole else ""

    return [("Units moved", f"{t['units_moved']:,} of {t['units']:,}"),
            ("Accounts to another territory", f"{t['accounts_changing_territory']:,}"),
            ("Accounts to another rep", f"{t['accounts_changing_rep']:,}" + share(t['accounts_changing_rep'], t['accounts'])),
            ("Revenue (T12M) to another rep", f"{t['revenue_changing_rep']:,.0f}"
             + share(t['revenue_changing_rep'], t['revenue_t12m_total'])),
            ("Open pipeline to another rep", f"{t['pipeline_changing_rep']:,.0f}"
             + share(t['pipeline_changing_rep'], t['pipeline_total'])),
            ("Reps affected", f"{int(((c.reps['accounts_gained'] + c.reps['accounts_lost']) > 0).sum()):,}")]
