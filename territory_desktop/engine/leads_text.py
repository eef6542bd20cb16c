"""Texts of the lead rules, built in bulk for 100,000 leads.

A rule's per-lead text (why it did not apply, why a rep was kept) is a ``Note``: an integer code per lead
into a small table of distinct sentences. Joining several notes formats each distinct combination of codes
once (``joined``); per-lead concatenations (territory, account, rep, held counts) are one Arrow pass over
(table, index) pieces (``concat``). No Python string is made per lead except the final one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


class Note:
    """A text per lead as codes into ``table`` (code 0 is the empty text: the rule said nothing)."""

    def __init__(self, n: int):
        self.codes = np.zeros(n, dtype=np.int64)
        self.table: list[str] = [""]
        self._index: dict[str, int] = {"": 0}

    def code(self, text: str) -> int:
        """The code of ``text``, added to the table the first time."""
        if text not in self._index:
            self._index[text] = len(self.table)
            self.table.append(text)
        return self._index[text]

    def put(self, rows: np.ndarray, text: str) -> None:
        self.codes[rows] = self.code(text)

    def text(self, row: int) -> str:
        return self.table[int(self.codes[row])]


def joined(notes: list[Note], n: int, sep: str) -> np.ndarray:
    """Per lead, the non-empty texts of ``notes`` joined by ``sep`` (an object array); each distinct
    combination of codes is joined once."""
    if not notes:
        return np.full(n, "", dtype=object)
    first, inverse = combinations([note.codes for note in notes])
    texts = np.empty(len(first), dtype=object)
    for k, row in enumerate(first.tolist()):
        texts[k] = sep.join(t for note in notes if (t := note.table[note.codes[row]]))
    return texts[inverse]


def combinations(parts: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The distinct combinations of values across ``parts`` (arrays of one length): the first row of each
    and each row's combination number."""
    n = len(parts[0])
    key = np.zeros(n, dtype=np.int64)
    for part in parts:
        codes, uniques = pd.factorize(part)
        key = pd.factorize(key * (len(uniques) + 1) + codes + 1)[0]  # stays below n: no overflow
    if not n:
        return np.zeros(0, dtype=np.int64), key
    # factorize numbers in order of first appearance: a row starts a combination where its number
    # exceeds every number before it
    seen = np.maximum.accumulate(key)
    return np.flatnonzero(np.r_[True, key[1:] > seen[:-1]]), key


def concat(pieces: list[tuple[list[str], np.ndarray]]) -> np.ndarray:
    """Element-wise concatenation of ``table[index]`` of each (table, index) piece, as an object array.

    Joined by Arrow in one pass (each piece a ``take`` from its small table): cheaper than one numpy
    object addition per piece, each of which makes a Python string per row."""
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = [pa.array(table, type=pa.string()).take(pa.array(np.asarray(index, dtype=np.int64)))
               for table, index in pieces]
    return pc.binary_join_element_wise(*columns, "").to_numpy(zero_copy_only=False).astype(object)


def running_count(group: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Per row: how many rows of its group, up to and including it (in row order), have ``mask``."""
    small = bool(len(group)) and group.min() >= 0 and group.max() < 2**15
    seq = np.argsort(group.astype(np.int16) if small else group, kind="stable")  # 16 bits: numpy's radix sort
    g, m = group[seq], mask[seq].astype(np.int64)
    total = np.cumsum(m)
    start = np.r_[True, g[1:] != g[:-1]] if len(g) else np.zeros(0, dtype=bool)
    before = np.maximum.accumulate(np.where(start, total - m, 0)) if len(g) else total
    out = np.empty(len(group), dtype=np.int64)
    out[seq] = total - before
    return out
