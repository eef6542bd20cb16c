"""Lead rules case by case: territory rules in order, tiers, expertise, absence, capacity, round robin."""

from __future__ import annotations

import numpy as np
import shapely

from territory_desktop.engine.leads import LeadData, LeadRules, Tier, World, assign_leads
from territory_desktop.engine.leads_match import locate, match_accounts, normalise_company, normalise_domain

REPS = ["R1", "R2", "R3"]


def world(teams=((0,), (1, 2)), skills=(set(), {"medical"}, {"dental"}), open_leads=(0, 0, 0),
          account_territory=(1,)) -> World:
    return World(
        territory_ids=np.array(["T1", "T2"], dtype=object), territory_names=np.array(["West", "East"], dtype=object),
        territory_reps=[tuple(t) for t in teams],
        account_ids=np.array(["A1"] * len(account_territory), dtype=object),
        account_names=np.array(["Acme Corp"] * len(account_territory), dtype=object),
        account_territory=np.array(account_territory, dtype=np.int64),
        rep_ids=np.array(REPS, dtype=object), rep_names=np.array(["Ana", "Ben", "Cy"], dtype=object),
        rep_skills=[frozenset(s) for s in skills], open_leads=np.array(open_leads))


def leads(n, location=0, value=0.0, industry="", account=-1, day="2026-12-01", rule_territory=-1) -> LeadData:
    from territory_desktop.engine.leads_match import AccountMatch

    def full(v, dt=object):
        return np.full(n, v, dtype=dt)
    return LeadData(ids=np.array([f"L{i}" for i in range(n)], dtype=object), value=full(value, float),
                    industry=full(industry), product=full(""), day=full(np.datetime64(day, "D"), "datetime64[D]"),
                    location=full(location, np.int64), inside=full(True, bool),
                    rule_territory=full(rule_territory, np.int64),
                    match=AccountMatch(full(account, np.int64), full("domain" if account >= 0 else ""),
                                       full(100.0 if account >= 0 else 0.0, float)))


def test_location_single_rep_and_explanation():
    out = assign_leads(leads(2, location=0), world(), LeadRules())
    assert out.rep.tolist() == [0, 0]
    assert out.explanation[0].startswith("T1 West by location; rep Ana")
    assert out.not_applied[0].startswith("account match: no account")


def test_account_match_goes_to_owner_and_wins_over_location():
    out = assign_leads(leads(1, location=0, account=0), world(teams=((0,), (1,))), LeadRules())
    assert out.territory[0] == 1 and out.rep[0] == 1
    assert "matched account A1 'Acme Corp' by domain" in out.explanation[0]
    # reordered: location first wins
    out = assign_leads(leads(1, location=0, account=0), world(teams=((0,), (1,))),
                       LeadRules(order=("location", "account_match")))
    assert out.territory[0] == 0


def test_disabled_rule_not_tried():
    out = assign_leads(leads(1, location=0, account=0), world(teams=((0,), (1,))),
                       LeadRules(disabled=frozenset({"account_match"})))
    assert out.territory[0] == 0
    assert "account match" not in out.not_applied[0]


def test_account_rule_before_location():
    out = assign_leads(leads(1, location=0, rule_territory=1), world(teams=((0,), (1,))), LeadRules())
    assert out.territory[0] == 1 and "by account rule" in out.explanation[0]


def test_no_territory_listed_with_reason():
    out = assign_leads(leads(1, location=-1), world(), LeadRules())
    assert out.rep[0] == -1 and out.reason[0].startswith("no territory: ")
    assert "location" in out.reason[0]


def test_value_tier_sends_big_leads_to_key_reps():
    rules = LeadRules(tiers=(Tier("key", 50_000, ("R3",)),))
    big = assign_leads(leads(1, location=0, value=60_000), world(), rules)
    small = assign_leads(leads(1, location=0, value=10_000), world(), rules)
    assert big.rep[0] == 2 and "tier 'key'" in big.explanation[0]
    assert small.rep[0] == 0 and "under the lowest tier" in small.not_applied[0]


def test_expertise_filters_team():
    out = assign_leads(leads(4, location=1, industry="dental"), world(), LeadRules())
    assert out.rep.tolist() == [2, 2, 2, 2]
    assert "skill 'dental'" in out.explanation[0]
    none = assign_leads(leads(2, location=1, industry="legal"), world(), LeadRules())
    assert sorted(none.rep.tolist()) == [1, 2]  # no skill match: the whole team, in turn
    assert "no candidate rep has skill 'legal'" in none.not_applied[0]


def test_round_robin_tie_alternates_and_order_mode():
    out = assign_leads(leads(6, location=1), world(), LeadRules(round_robin="count"))
    assert out.rep.tolist() == [1, 2, 1, 2, 1, 2]
    out = assign_leads(leads(5, location=1), world(), LeadRules(round_robin="order"))
    assert out.rep.tolist() == [1, 2, 1, 2, 1]


def test_absent_rep_skipped_and_all_absent_reason():
    rules = LeadRules(absences={"R2": [("2026-11-30", "2026-12-02")]})
    out = assign_leads(leads(3, location=1), world(), rules)
    assert out.rep.tolist() == [2, 2, 2]
    after = assign_leads(leads(2, location=1, day="2026-12-03"), world(), rules)
    assert sorted(after.rep.tolist()) == [1, 2]
    alone = assign_leads(leads(1, location=0), world(), LeadRules(absences={"R1": [("2026-12-01", "2026-12-01")]}))
    assert alone.rep[0] == -1 and "Ana absent on 2026-12-01" in alone.reason[0]


def test_capacity_exhaustion_open_and_period():
    out = assign_leads(leads(5, location=0), world(open_leads=(18, 0, 0)), LeadRules(max_open=20))
    assert out.rep.tolist() == [0, 0, -1, -1, -1]
    assert "20 of 20 open leads" in out.explanation[1]
    assert "capacity reached" in out.reason[2]
    per = assign_leads(leads(4, location=1), world(), LeadRules(max_per_period=1, period="month"))
    assert per.rep.tolist() == [1, 2, -1, -1]
    nxt = assign_leads(leads(1, location=1, day="2027-01-02"), world(), LeadRules(max_per_period=1))
    assert nxt.rep[0] in (1, 2)


def test_weighted_shares_over_10000_leads_within_one_percent():
    w = world(teams=((0, 1, 2),))
    rules = LeadRules(round_robin="weighted", weights={"R1": 1, "R2": 2, "R3": 5})
    out = assign_leads(leads(10_000, location=0), w, rules)
    shares = np.bincount(out.rep, minlength=3) / 10_000
    assert np.allclose(shares, [1 / 8, 2 / 8, 5 / 8], atol=0.01)


def test_rotation_state_continues_across_runs():
    w = world()
    first = assign_leads(leads(3, location=1), w, LeadRules(round_robin="order"))
    assert first.rep.tolist() == [1, 2, 1]
    second = assign_leads(leads(3, location=1), w, LeadRules(round_robin="order"), first.rotation)
    assert second.rep.tolist() == [2, 1, 2]  # continues after R2's turn, not from the start
    c1 = assign_leads(leads(3, location=1), w, LeadRules(round_robin="count"))
    c2 = assign_leads(leads(1, location=1), w, LeadRules(round_robin="count"), c1.rotation)
    assert c2.rep.tolist() == [2]  # R2 had 2, R3 had 1: R3 is behind
    assert c2.rotation["R2|R3"]["counts"] == {"R2": 2, "R3": 2}


def test_fuzzy_matches_that_must_and_must_not_match():
    accounts = ["Acme Medical Inc.", "Globex Corporation", "Initech", "Acme Dental LLC"]
    companies = ["ACME MEDICAL", "Acme Medial", "Globex", "Acme", "Acme Dentists Group", "Initech Systems", "", "Zeta"]
    m = match_accounts([""] * len(companies), companies, [""] * 4, accounts, threshold=90)
    assert m.account.tolist()[:3] == [0, 0, 1]
    assert m.how.tolist()[:3] == ["name", "fuzzy name", "name"]
    assert m.account.tolist()[3:] == [-1, -1, -1, -1, -1]  # too short, different firm, other words


def test_domain_match_first():
    m = match_accounts(["https://www.acme.com/contact", "ana@Globex.com", ""], ["Wrong Name", "x", "Acme Medical"],
                       ["acme.com", "globex.com", ""], ["Acme Medical", "Globex", "Acme Medical"])
    assert m.account.tolist() == [0, 1, 0] and m.how.tolist() == ["domain", "domain", "name"]


def test_normalisers():
    assert normalise_company(["The Acme Co., Inc.", "Smith & Sons LLC"]).tolist() == ["acme", "smith and sons"]
    assert normalise_domain(["HTTP://WWW.X.ORG/a?b", "b@y.io"]).tolist() == ["x.org", "y.io"]


def test_locate_inside_and_nearest():
    polys = np.array([shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1), shapely.box(5, 5, 6, 6)], dtype=object)
    terr, inside = locate(np.array([0.5, 1.5, 2.5, 5.5]), np.array([0.5, 0.5, 0.5, 5.5]), polys,
                          np.array([0, 1, -1]))
    assert terr.tolist() == [0, 1, 1, 1] and inside.tolist() == [True, True, False, False]


def test_held_counts_follow_date_order_when_no_cap_can_bind():
    # T1's only rep Ana can never reach her cap of 100 (4 leads, 90 held): she takes every lead without the
    # sequential loop; her texts still count in date order (then file order within a day), from 90 held
    data = leads(4, location=0)
    data.day = np.array(["2026-12-03", "2026-12-01", "2026-12-02", "2026-12-01"], dtype="datetime64[D]")
    out = assign_leads(data, world(open_leads=(90, 0, 0)), LeadRules(max_open=100))
    held = [int(e.split(", ")[-1].split(" of ")[0]) for e in out.explanation]
    assert out.rep.tolist() == [0, 0, 0, 0]
    assert held == [94, 91, 93, 92]
    assert all(e.endswith(" of 100 open leads") for e in out.explanation)
    # with a cap that binds (92), the same leads go through the loop: two are taken, in date order
    out = assign_leads(data, world(open_leads=(90, 0, 0)), LeadRules(max_open=92))
    assert out.rep.tolist() == [-1, 0, -1, 0]
    assert out.reason[0].endswith("capacity reached (Ana 92 of 92 open leads)")


def test_the_character_bound_is_never_below_the_fuzzy_score():
    """Fuzzy candidates are dropped when 200 x their common characters / their lengths is under the
    threshold: that bound must hold for every pair (rapidfuzz's own scores, all pairs of random names)."""
    import pyarrow as pa
    from rapidfuzz import fuzz, process

    from territory_desktop.engine.leads_match import _char_counts

    rng = np.random.default_rng(5)
    words = ["acme", "medical", "north", "supply", "beacon", "law", "dental", "ab", "x"]
    names = [" ".join(rng.choice(words, rng.integers(1, 4))) for _ in range(60)]
    names += [n[:2] + n[3:] for n in names[:20]] + ["", "zz top 9"]
    keys = normalise_company(names)
    chars = _char_counts(pa.array(keys.tolist(), type=pa.string())).astype(int)
    lengths = np.array([len(k) for k in keys])
    scores = process.cdist(keys.tolist(), keys.tolist(), scorer=fuzz.token_sort_ratio)
    common = np.minimum(chars[:, None, :], chars[None, :, :]).sum(axis=2)
    total = lengths[:, None] + lengths[None, :]
    bound = np.where(total > 0, 200.0 * common / np.maximum(total, 1), 100.0)
    assert (scores <= bound + 1e-4).all()  # rapidfuzz returns float32
    assert (scores[total > 0] == bound[total > 0]).any() and (scores < bound - 1).any()  # tight and loose cases
