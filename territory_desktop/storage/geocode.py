"""Offline geocoding of US ZIP codes to their centroid, from the ``zipcodes`` package's bundled data."""

from __future__ import annotations

from functools import lru_cache

import pandas as pd


@lru_cache(maxsize=1)
def zip_table() -> pd.DataFrame:
    """All ~42,000 US ZIP codes indexed by 5-digit code: lat, lon, city, state, county, active."""
    import zipcodes

    records = zipcodes.list_all()
    frame = pd.DataFrame.from_records(records, columns=["zip_code", "lat", "long", "city", "state", "county",
                                                       "active", "zip_code_type"])
    frame = frame.rename(columns={"zip_code": "zip", "long": "lon"})
    frame["lat"] = pd.to_numeric(frame["lat"], errors="coerce")
    frame["lon"] = pd.to_numeric(frame["lon"], errors="coerce")
    frame = frame.dropna(subset=["lat", "lon"])
    frame = frame[(frame["lat"] != 0) | (frame["lon"] != 0)]
    return frame.drop_duplicates("zip").set_index("zip")


def normalise_zip(values: pd.Series) -> pd.Series:
    """'2134' -> '02134' (Excel drops leading zeros), '02134-1234' -> '02134', blanks stay ''."""
    text = values.astype(object).where(values.notna(), "").astype(str).str.strip()
    text = text.str.replace(r"\.0$", "", regex=True).str.split("-").str[0].str.strip()
    digits = text.str.fullmatch(r"\d{3,5}")
    return text.where(~digits, text.str.zfill(5))
