"""Small validation checks shared by the importers (OSMnx ``_validate.py`` style).

Each check looks at one thing (ids, numbers, text lengths, coordinates, ...) for every row at once and
returns a list of :class:`RowProblem`; the importer runs them all, then raises one error listing every
problem. ``rows`` is always the array of row numbers a person sees (spreadsheet rows, feature numbers).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..models import RowProblem
from ..models.fields import LATITUDE_RANGE, LONGITUDE_RANGE, Field, valid_range

#: characters that do not show: zero-width spaces and joiners, direction marks, soft hyphen, BOM, controls
INVISIBLE = "[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]"
#: space characters other than the plain space (no-break, thin, ideographic, ...), read as a plain space
ODD_SPACES = "[\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
MAX_LISTED = 5


def normalise_ids(ids: pd.Series) -> tuple[pd.Series, list[str]]:
    """Ids as NFC text without invisible characters and with plain spaces, stripped.

    Returns the cleaned ids and a note naming how many changed (with a few examples), so that "a1" and
    "a<zero-width space>1" are one id (reported as a duplicate), never two that look the same.
    """
    text = ids if ids.dtype == "str" and not ids.hasnans else ids.astype(object).where(ids.notna(), "").astype(str)
    odd = text.str.contains(r"[^\x20-\x7e]", regex=True)  # anything beyond printable ASCII
    if not odd.any():
        return text.str.strip(), []
    cleaned = text.copy()
    cleaned[odd] = (text[odd].str.normalize("NFC").str.replace(INVISIBLE, "", regex=True)
                    .str.replace(ODD_SPACES, " ", regex=True))
    cleaned = cleaned.str.strip()
    changed = np.flatnonzero((cleaned != text.str.strip()).to_numpy())
    if not len(changed):
        return cleaned, []
    shown = ", ".join(f"{text.iat[i]!r} -> {cleaned.iat[i]!r}" for i in changed[:MAX_LISTED])
    return cleaned, [(f"{len(changed)} ids held invisible or non-standard characters (zero-width or no-break "
                     f"spaces, direction marks, controls), removed: {shown}")]


def check_ids(ids: pd.Series, rows: np.ndarray, column: str) -> list[RowProblem]:
    """Every id present and unique; a duplicate names the row of its first occurrence."""
    problems = [RowProblem(int(rows[i]), column, "the id is empty") for i in np.flatnonzero((ids == "").to_numpy())]
    if distinct(ids):
        return problems
    dup = (ids.duplicated(keep="first") & (ids != "")).to_numpy()
    if dup.any():
        first = pd.Series(rows, index=ids.index).groupby(ids.to_numpy()).transform("first").to_numpy()
        problems += [RowProblem(int(rows[i]), column, f"duplicate id '{ids.iat[i]}' (first on row {first[i]})")
                     for i in np.flatnonzero(dup)]
    return problems


def distinct(ids: pd.Series | pd.Index | np.ndarray) -> bool:
    """True when no two ids (text) are equal: Arrow's hash ``unique``, about twice as fast as pandas'
    ``duplicated`` or ``is_unique`` on a million ids. False also when the ids are not all text or some are
    missing: the caller then looks with pandas."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        array = pa.array(ids, type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return False
    return not array.null_count and len(pc.unique(array)) == len(array)


def check_text(text: pd.Series, f: Field, rows: np.ndarray, column: str) -> list[RowProblem]:
    """Text no longer than the field allows."""
    if f.high is None:
        return []
    lengths = text.str.len().to_numpy()
    return [RowProblem(int(rows[i]), column, f"the text is {lengths[i]:,} characters long; {f.name} takes "
                                             f"{valid_range(f)}")
            for i in np.flatnonzero(lengths > f.high)]


def check_numbers(text: pd.Series, number: np.ndarray, f: Field, rows: np.ndarray, column: str
                  ) -> list[RowProblem]:
    """Numbers that parse, are finite, whole where the field is an integer, and inside the field's range."""
    blank = (text == "").to_numpy()
    nan = np.isnan(number)
    problems = [RowProblem(int(rows[i]), column, f"'{_short(text.iat[i])}' is not a number")
                for i in np.flatnonzero(~blank & nan)]
    finite = np.isfinite(number)
    whole = np.where(finite, number, 0) == np.floor(np.where(finite, number, 0))
    bad_int = finite & ~whole if f.kind == "int" else np.zeros(len(number), dtype=bool)
    problems += [RowProblem(int(rows[i]), column, f"'{_short(text.iat[i])}' is not a whole number")
                 for i in np.flatnonzero(bad_int)]
    low = -np.inf if f.low is None else f.low
    high = np.inf if f.high is None else f.high
    with np.errstate(invalid="ignore"):
        outside = ~nan & ~bad_int & (~finite | (number < low) | (number > high))
    problems += [RowProblem(int(rows[i]), column, f"{_short(text.iat[i])} is outside the valid range of "
                                                  f"{f.name} ({valid_range(f)})")
                 for i in np.flatnonzero(outside)]
    return problems


def check_order(values: pd.DataFrame, fields: tuple[Field, ...], columns: dict[str, str], rows: np.ndarray,
                skip: np.ndarray | None = None) -> list[RowProblem]:
    """Fields that must be greater than another of the same row (close after open, end after start).

    Rows where ``skip`` is True (already reported for a bad value) are not checked."""
    problems = []
    for f in fields:
        if f.after is None or f.name not in values or f.after not in values:
            continue
        late, early = values[f.name].to_numpy(float), values[f.after].to_numpy(float)
        with np.errstate(invalid="ignore"):
            wrong = np.flatnonzero((late <= early) & (True if skip is None else ~skip))
        where = columns.get(f.name) or columns.get(f.after) or f.name
        problems += [RowProblem(int(rows[i]), where, f"{f.name} {late[i]:g} is not after {f.after} {early[i]:g} "
                                                     "(times are minutes after midnight; a day cannot wrap "
                                                     "past midnight)")
                     for i in wrong]
    return problems


def check_required(frame: pd.DataFrame, fields: tuple[Field, ...], columns: dict[str, str], rows: np.ndarray
                   ) -> list[RowProblem]:
    """Blank cells in the columns of required fields (``Field.required``)."""
    problems = []
    for f in fields:
        col = columns.get(f.name)
        if not f.required or col is None:
            continue
        blank = frame[col].astype("str").fillna("").str.strip().eq("").to_numpy()
        problems += [RowProblem(int(rows[i]), col, f"{f.name} is empty (every row needs one)")
                     for i in np.flatnonzero(blank)]
    return problems


TRUE_WORDS = ("1", "true", "yes", "y", "t", "won", "x")
FALSE_WORDS = ("0", "false", "no", "n", "f", "lost")


def convert_bool(text: pd.Series, f: Field, rows: np.ndarray, column: str) -> tuple[np.ndarray, list[RowProblem]]:
    """true/false (1/0, yes/no, won/lost; case ignored) as True/False; blank as the field's default."""
    lower = text.str.lower()
    yes, no = lower.isin(TRUE_WORDS).to_numpy(), lower.isin(FALSE_WORDS).to_numpy()
    blank = (text == "").to_numpy()
    values = np.full(len(text), f.default, dtype=object)
    values[yes], values[no] = True, False
    problems = [RowProblem(int(rows[i]), column, f"'{_short(text.iat[i])}' is not true/false (1/0, yes/no)")
                for i in np.flatnonzero(~(yes | no | blank))]
    return values, problems


def convert_date(text: pd.Series, f: Field, rows: np.ndarray, column: str) -> tuple[np.ndarray, list[RowProblem]]:
    """Dates as ISO text: YYYY-MM-DD for kind "date", YYYY-MM for kind "month"; blank as the default.

    ISO dates (and date-times, as XLSX cells give them) parse in one vectorised call; other spellings
    (10/31/2025, 31 Oct 2025) are tried one by one; what parses in neither is reported with its row."""
    blank = (text == "").to_numpy()
    parsed = pd.to_datetime(text.mask(blank), errors="coerce", format="ISO8601")
    retry = np.flatnonzero(~blank & parsed.isna().to_numpy())
    if len(retry):
        again = pd.to_datetime(text.iloc[retry], errors="coerce", format="mixed")
        parsed.iloc[retry] = again.to_numpy()
    pattern = "%Y-%m" if f.kind == "month" else "%Y-%m-%d"
    values = parsed.dt.strftime(pattern).to_numpy(dtype=object)
    bad = ~blank & parsed.isna().to_numpy()
    values[blank | bad] = f.default
    what = "a month (YYYY-MM)" if f.kind == "month" else "a date (YYYY-MM-DD)"
    problems = [RowProblem(int(rows[i]), column, f"'{_short(text.iat[i])}' is not {what}")
                for i in np.flatnonzero(bad)]
    return values, problems


def check_coordinates(lon: np.ndarray, lat: np.ndarray, rows: np.ndarray, lon_column: str, lat_column: str
                      ) -> list[RowProblem]:
    """Longitude and latitude finite and within -180..180 / -90..90 (NaN = missing, not checked here)."""
    problems = []
    for values, (low, high), column in ((lat, LATITUDE_RANGE, lat_column), (lon, LONGITUDE_RANGE, lon_column)):
        with np.errstate(invalid="ignore"):
            outside = ~np.isnan(values) & ~((values >= low) & (values <= high))
        problems += [RowProblem(int(rows[i]), column, f"{values[i]:g} is outside {low:g}..{high:g}")
                     for i in np.flatnonzero(outside)]
    return problems


def check_bounds(bounds: np.ndarray, rows: np.ndarray) -> list[RowProblem]:
    """Geometry bounds (n x 4: minx, miny, maxx, maxy, in degrees) inside the valid longitude/latitude."""
    with np.errstate(invalid="ignore"):
        ok = (np.isfinite(bounds).all(axis=1)
              & (bounds[:, 0] >= LONGITUDE_RANGE[0]) & (bounds[:, 2] <= LONGITUDE_RANGE[1])
              & (bounds[:, 1] >= LATITUDE_RANGE[0]) & (bounds[:, 3] <= LATITUDE_RANGE[1]))
    return [RowProblem(int(rows[i]), "geometry",
                       "coordinates outside longitude -180..180 / latitude -90..90 after reprojection "
                       f"(x {bounds[i, 0]:.6g}..{bounds[i, 2]:.6g}, y {bounds[i, 1]:.6g}..{bounds[i, 3]:.6g})")
            for i in np.flatnonzero(~ok)]


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "..."
