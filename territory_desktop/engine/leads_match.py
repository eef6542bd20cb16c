"""Lead-to-account matching and lead location: pure functions on arrays (no files, no project).

Matching, first hit wins: the lead's web domain (or e-mail domain) equals an account's domain; else the
lead's company name, normalised (case, punctuation and legal suffixes such as "Inc", "Corp", "LLC"
removed), equals an account's normalised name; else the best fuzzy score (rapidfuzz ``token_sort_ratio``,
0-100) of names that share their first two letters, when it reaches the threshold. The block on the first
two letters keeps 100,000 leads against 20,000 accounts to a few million comparisons; a typo in the first
two letters is therefore not matched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely

from .geometry import point_xy
from .placement import PolygonIndex, place_points

if TYPE_CHECKING:
    import pyarrow as pa

LEGAL_SUFFIXES = ("inc", "incorporated", "corp", "corporation", "co", "company", "llc", "ltd", "limited",
                  "plc", "gmbh", "ag", "sa", "lp", "llp", "the", "group", "holdings")
_SUFFIX = re.compile(r"\b(?:" + "|".join(LEGAL_SUFFIXES) + r")\b")


def _text(values):
    """``values`` as an Arrow string array, blanks (None, NaN) as ''; numbers and other values as their text."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:  # text columns (the usual case) convert in one call
        return pc.fill_null(pa.array(values, type=pa.string(), from_pandas=True), "")
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array(pd.Series(values, dtype=object).fillna("").astype(str).to_numpy(dtype=object),
                        type=pa.string())


def normalise_company(names) -> np.ndarray:
    """Company names as comparison keys: lower case, '&' as 'and', no punctuation or legal suffixes.

    Words are what is left between spaces once punctuation is a space: the legal-suffix words and the empty
    ones are dropped and the rest joined by one space (Arrow list kernels: one regex, not four)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    s = pc.replace_substring(pc.utf8_lower(_text(names)), "&", " and ")
    lists = pc.split_pattern(pc.replace_substring_regex(s, r"[^a-z0-9 ]+", " "), " ")
    words = pc.list_flatten(lists)
    keep = pc.and_(pc.greater(pc.utf8_length(words), 0),
                   pc.invert(pc.is_in(words, value_set=pa.array(LEGAL_SUFFIXES, type=pa.string()))))
    parents = pc.list_parent_indices(lists).to_numpy()[keep.to_numpy(zero_copy_only=False)]
    offsets = np.r_[0, np.cumsum(np.bincount(parents, minlength=len(s)))].astype(np.int32)
    kept = pa.ListArray.from_arrays(pa.array(offsets), words.filter(keep))
    return pc.binary_join(kept, " ").to_numpy(zero_copy_only=False).astype(object)


def normalise_domain(values) -> np.ndarray:
    """Web domains as keys: 'https://www.Acme.com/x' and 'ana@acme.com' both become 'acme.com'."""
    import pyarrow.compute as pc

    s = pc.utf8_trim_whitespace(pc.utf8_lower(_text(values)))
    for pattern in (r"^.*@", r"^[a-z]+://", r"^www\.", r"[/?#:].*$"):
        s = pc.replace_substring_regex(s, pattern, "")
    return s.to_numpy(zero_copy_only=False).astype(object)


@dataclass
class AccountMatch:
    """Per lead: matched account index (-1 none), how ('domain', 'name', 'fuzzy name' or ''), score 0-100."""

    account: np.ndarray
    how: np.ndarray
    score: np.ndarray


@dataclass
class _Blocks:
    """Account rows grouped by a blocking code (a word or a prefix): rows sorted by code, where each code's
    rows start and how many there are."""

    rows: np.ndarray
    starts: np.ndarray
    count: np.ndarray

    @classmethod
    def of(cls, rows: np.ndarray, codes: np.ndarray, n_codes: int) -> _Blocks:
        order = np.argsort(codes, kind="stable")
        return cls(rows[order], np.searchsorted(codes[order], np.arange(n_codes)),
                   np.bincount(codes, minlength=n_codes))

    def pairs(self, lead_row: np.ndarray, lead_code: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every (lead row, account row) pair with equal codes (``lead_code`` >= 0), without a Python loop."""
        count = self.count[lead_code]
        first = np.repeat(self.starts[lead_code] - np.cumsum(count) + count, count)
        return np.repeat(lead_row, count), self.rows[first + np.arange(int(count.sum()))]


@dataclass
class AccountIndex:
    """What matching needs of the accounts, built once (``account_index``) and reused for every lead file:
    normalised domains and names, the first account of each key, and the blocks of the fuzzy match (rare
    words of 3+ letters, two-letter prefixes) with the names' lengths."""

    domain_keys: np.ndarray
    name_keys: np.ndarray
    domain_first: pd.Series
    name_first: pd.Series
    words: pa.Array  # the distinct words (codes index it)
    word_blocks: _Blocks
    prefixes: pa.Array  # the distinct two-letter prefixes
    prefix_blocks: _Blocks
    name_lengths: np.ndarray
    #: per name, how many times each of a-z, 0-9, space and "any other" occurs (None: a count over 255)
    name_chars: np.ndarray | None


def _first_of_keys(keys: np.ndarray) -> pd.Series:
    """key -> index of the first row with that key (blank keys left out)."""
    first = pd.Series(np.arange(len(keys)), index=keys)
    return first[(first.index != "") & ~first.index.duplicated()]


def account_index(account_domains, account_names, max_share: int = 100) -> AccountIndex:
    """The accounts' matching keys (see ``AccountIndex``); a word that more than ``max_share`` account names
    have does not block (it would pair a lead with too many accounts)."""
    domain_keys = normalise_domain(account_domains)
    name_keys = normalise_company(account_names)
    import pyarrow as pa

    rows, word = _words(name_keys)
    codes, words = pd.factorize(word.to_numpy(zero_copy_only=False).astype(object))
    share = np.bincount(codes, minlength=len(words))
    rare = share[codes] <= max_share
    prefix_codes, prefixes = pd.factorize(pd.Series(name_keys, dtype=object).str[:2].to_numpy(dtype=object))
    lengths = np.fromiter(map(len, name_keys), dtype=np.int64, count=len(name_keys))
    text = pa.string()
    return AccountIndex(domain_keys, name_keys, _first_of_keys(domain_keys), _first_of_keys(name_keys),
                        pa.array(np.asarray(words, dtype=object), type=text),
                        _Blocks.of(rows[rare], codes[rare], len(words)),
                        pa.array(np.asarray(prefixes, dtype=object), type=text),
                        _Blocks.of(np.arange(len(name_keys)), prefix_codes, len(prefixes)), lengths,
                        _char_counts(pa.array(name_keys.tolist(), type=text)))


_CHARS = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz0123456789 ", dtype=np.uint8)


def _char_counts(keys: pa.Array) -> np.ndarray | None:
    """(len(keys), 38) uint8: occurrences of each of a-z, 0-9, space and (together) any other byte in each
    key; None when a count does not fit in a byte."""
    if not len(keys):
        return np.zeros((0, len(_CHARS) + 1), dtype=np.uint8)
    offsets = np.frombuffer(keys.buffers()[1], dtype=np.int32)[keys.offset: keys.offset + len(keys) + 1]
    data = np.frombuffer(keys.buffers()[2], dtype=np.uint8)[offsets[0]: offsets[-1]]
    lookup = np.full(256, len(_CHARS), dtype=np.int64)
    lookup[_CHARS] = np.arange(len(_CHARS))
    rows = np.repeat(np.arange(len(keys)), np.diff(offsets))
    width = len(_CHARS) + 1
    counts = np.bincount(rows * width + lookup[data], minlength=len(keys) * width).reshape(len(keys), width)
    return counts.astype(np.uint8) if counts.max(initial=0) <= 255 else None


def _codes(values, vocabulary) -> np.ndarray:
    """Position of each Arrow string of ``values`` in the Arrow ``vocabulary`` (-1: not in it)."""
    import pyarrow.compute as pc

    return pc.fill_null(pc.index_in(values, value_set=vocabulary), -1).to_numpy().astype(np.int64)


def match_accounts(lead_domains, lead_companies, account_domains=None, account_names=None,
                   threshold: float = 90.0, index: AccountIndex | None = None) -> AccountMatch:
    """Match leads to accounts by domain, then exact normalised name, then fuzzy name (see module doc).

    ``index``: the accounts' ``account_index`` when the caller keeps one (then the account arguments are
    not read)."""
    if index is None:
        index = account_index(account_domains, account_names)
    n = len(lead_companies)
    account = np.full(n, -1, dtype=np.int64)
    how = np.full(n, "", dtype=object)
    score = np.zeros(n)
    if len(index.domain_first):  # no account has a domain: no lead can match by one
        _exact(normalise_domain(lead_domains), index.domain_first, account, how, score, "domain")
    lead_keys = normalise_company(lead_companies)
    _exact(lead_keys, index.name_first, account, how, score, "name")
    _fuzzy(lead_keys, index, account, how, score, threshold)
    return AccountMatch(account, how, score)


def _exact(lead_keys: np.ndarray, first: pd.Series, account: np.ndarray, how: np.ndarray,
           score: np.ndarray, label: str) -> None:
    """Fill unmatched leads whose key equals an account's key (``first``: key -> the first such account)."""
    import pyarrow as pa

    open_ = np.flatnonzero((account < 0) & (lead_keys != ""))
    text = pa.string()
    position = _codes(pa.array(lead_keys[open_].tolist(), type=text),
                      pa.array(first.index.to_numpy(dtype=object), type=text))
    found = position >= 0
    account[open_[found]] = first.to_numpy(np.int64)[position[found]]
    how[open_[found]] = label
    score[open_[found]] = 100.0


def _fuzzy(lead_keys: np.ndarray, index: AccountIndex, account: np.ndarray, how: np.ndarray,
           score: np.ndarray, threshold: float) -> None:
    """Best fuzzy account of each unmatched lead among its candidates (see ``_candidate_pairs``)."""
    from rapidfuzz import fuzz, process

    open_ = np.flatnonzero((account < 0) & (lead_keys != ""))
    if not len(open_) or not len(index.name_keys):
        return
    lead, acc = _candidate_pairs(lead_keys[open_], index, threshold)
    if not len(lead):
        return
    s = process.cpdist(lead_keys[open_][lead].tolist(), index.name_keys[acc].tolist(),
                       scorer=fuzz.token_sort_ratio, score_cutoff=threshold, workers=-1)
    keep = s >= threshold
    pairs = pd.DataFrame({"lead": lead[keep], "acc": acc[keep], "s": s[keep]})
    best = pairs.sort_values(["lead", "s", "acc"], ascending=[True, False, True]).drop_duplicates("lead")
    rows = open_[best["lead"].to_numpy()]
    account[rows] = best["acc"].to_numpy()
    how[rows] = "fuzzy name"
    score[rows] = best["s"].to_numpy()


def _candidate_pairs(lead_keys: np.ndarray, index: AccountIndex, threshold: float
                     ) -> tuple[np.ndarray, np.ndarray]:
    """(lead, account) pairs worth scoring: they share a word of 3+ letters that few accounts have (see
    ``account_index``), or (for leads without such a word) the first two letters; and their lengths allow
    the threshold (a score s needs the shorter key at least s / (200 - s) of the longer), and so do their
    characters: the score (200 x the longest common subsequence / the sum of the lengths; token sorting
    keeps the characters) is at most 200 x the characters they have in common / the sum of the lengths."""
    import pyarrow as pa
    import pyarrow.compute as pc

    keys = pa.array(lead_keys.tolist(), type=pa.string())
    lead_row, lead_word = _words(keys)
    code = _codes(lead_word, index.words)
    known = code >= 0  # a word no account has pairs with none
    lead, acc = index.word_blocks.pairs(lead_row[known], code[known])
    lonely = np.flatnonzero(np.bincount(lead, minlength=len(lead_keys)) == 0)
    lengths = pc.utf8_length(keys).to_numpy().astype(np.int64)
    ratio = threshold / (200.0 - threshold)

    def fit(lead: np.ndarray, acc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ll, al = lengths[lead], index.name_lengths[acc]
        ok = np.minimum(ll, al) >= ratio * np.maximum(ll, al)
        return lead[ok], acc[ok]

    lead, acc = fit(lead, acc)
    if len(lead):  # two shared rare words give a pair twice
        n_acc = len(index.name_keys)
        pair = np.sort(lead * n_acc + acc)  # (numpy's hash-based unique is slower here)
        pair = pair[np.r_[True, pair[1:] != pair[:-1]]]
        lead, acc = pair // n_acc, pair % n_acc
    if len(lonely):  # each lonely lead has one prefix and each account one: no pair twice
        code = _codes(pc.utf8_slice_codeunits(keys.take(pa.array(lonely)), 0, 2), index.prefixes)
        more_l, more_a = fit(*index.prefix_blocks.pairs(lonely[code >= 0], code[code >= 0]))
        lead, acc = np.concatenate([lead, more_l]), np.concatenate([acc, more_a])
    chars = _char_counts(keys)
    if chars is None or index.name_chars is None or not len(lead):
        return lead, acc
    common = np.minimum(chars[lead], index.name_chars[acc]).sum(axis=1, dtype=np.int64)
    ok = 200.0 * common >= threshold * (lengths[lead] + index.name_lengths[acc]) - 1e-6  # float slack: keep
    return lead[ok], acc[ok]


def _words(keys) -> tuple[np.ndarray, pa.Array]:
    """(row, word) of every word of 3+ characters in ``keys`` (an object array or an Arrow string array);
    the words as an Arrow string array."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not isinstance(keys, pa.Array):
        keys = pa.array(np.asarray(keys, dtype=object).tolist(), type=pa.string())
    lists = pc.split_pattern(keys, " ")
    flat = pc.list_flatten(lists)
    rows = pc.list_parent_indices(lists).to_numpy()
    long = pc.greater_equal(pc.utf8_length(flat), 3)
    return rows[long.to_numpy(zero_copy_only=False)].astype(np.int64), flat.filter(long)


def _nearest(points: np.ndarray, polygons: np.ndarray, reach: float = 0.25, tree: shapely.STRtree | None = None
             ) -> np.ndarray:
    """Index of the nearest polygon of each point (ties: the lowest index).

    Candidates: polygons whose bounding box meets the square of half-side ``reach`` (CRS units; degrees
    here) around the point, one tree query without a predicate. The distance to a bounding box is a lower
    bound of the distance to its polygon, so only candidates whose box is no farther than the true distance
    of the candidate with the nearest box need their distance computed (about a third here); the nearest
    within ``reach`` wins. Points with no polygon that close fall back to ``query_nearest``. This is about
    3x faster than ``STRtree.query_nearest`` on county polygons. ``tree``: an STRtree of ``polygons``.
    """
    tree = tree if tree is not None else shapely.STRtree(polygons)
    nearest = np.full(len(points), -1, dtype=np.int64)
    px, py = point_xy(points)
    point_idx, poly_idx = tree.query(shapely.box(px - reach, py - reach, px + reach, py + reach))
    if len(point_idx):
        box = shapely.bounds(polygons)[poly_idx]
        qx, qy = px[point_idx], py[point_idx]
        low = np.hypot(np.maximum(np.maximum(box[:, 0] - qx, qx - box[:, 2]), 0),
                       np.maximum(np.maximum(box[:, 1] - qy, qy - box[:, 3]), 0))
        dist = np.full(len(point_idx), np.nan)
        order = np.lexsort((low, point_idx))
        best_box = order[np.r_[True, point_idx[order][1:] != point_idx[order][:-1]]]
        dist[best_box] = shapely.distance(points[point_idx[best_box]], polygons[poly_idx[best_box]])
        bound = np.full(len(points), np.inf)
        bound[point_idx[best_box]] = dist[best_box]
        keep = (low <= bound[point_idx]) & (low <= reach)
        todo = np.flatnonzero(keep & np.isnan(dist))
        dist[todo] = shapely.distance(points[point_idx[todo]], polygons[poly_idx[todo]])
        kept = np.flatnonzero(keep)
        order = kept[np.lexsort((poly_idx[kept], dist[kept], point_idx[kept]))]
        first = order[np.r_[True, point_idx[order][1:] != point_idx[order][:-1]]]
        first = first[dist[first] <= reach]
        nearest[point_idx[first]] = poly_idx[first]
    far = np.flatnonzero(nearest < 0)
    if len(far):
        p_idx, g_idx = tree.query_nearest(points[far], all_matches=False)
        nearest[far[p_idx]] = g_idx
    return nearest


def locate(x: np.ndarray, y: np.ndarray, unit_polygons: np.ndarray, unit_territory: np.ndarray,
           index: PolygonIndex | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Territory index of each point and whether it lies inside one.

    ``unit_territory[i]`` is the territory index of unit i (-1 for a unit in no territory). A point in a
    unit of a territory is inside it; any other point takes the territory of the nearest assigned unit
    (planar distance in the polygons' CRS). Returns (territory index, inside), -1 when no unit is assigned.
    ``index``: a ``PolygonIndex`` of the assigned units' polygons (``unit_polygons[unit_territory >= 0]``)
    when the caller keeps one.
    """
    unit_territory = np.asarray(unit_territory, dtype=np.int64)
    assigned = np.flatnonzero(unit_territory >= 0)
    result = np.full(len(x), -1, dtype=np.int64)
    if not len(assigned):
        return result, np.zeros(len(x), dtype=bool)
    polys = np.asarray(unit_polygons, dtype=object)[assigned] if index is None else index.polygons
    index = index if index is not None else PolygonIndex(polys)
    unit = place_points(x, y, polys, index=index)
    inside = unit >= 0
    result[inside] = unit_territory[assigned[unit[inside]]]
    outside = np.flatnonzero(~inside & np.isfinite(x) & np.isfinite(y))
    if len(outside):
        nearest = _nearest(shapely.points(x[outside], y[outside]), polys, tree=index.tree)
        result[outside] = unit_territory[assigned[nearest]]
    return result, inside
