"""Handoff monitoring (sim.model.handoff) against an independent pandas computation on
generated records: response shares, medians and P90s, the share never picked up, and the
records still inside their window."""

import numpy as np
import pandas as pd
import pytest

from sim.model.agreement import HandoffRule
from sim.model.handoff import elapsed_days, measure_handoff
from tests.handoff_oracle import pandas_oracle

AS_OF = pd.Timestamp("2027-06-20")      # inside June: June's young records are still inside their windows


def generated_records(seed: int, n: int = 1_200) -> pd.DataFrame:
    """Records reaching the first stage from January to the as-of day; 55% handed on after 0-25
    days, a fifth of the others rejected (lost) after 0-15 days, some first contacts; some dates
    after the as-of day (not known yet) and a few hand-ons dated before the record arrived."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2027-01-01")
    reached = start + pd.to_timedelta(rng.integers(0, (AS_OF - start).days + 1, n), unit="D")
    handed = reached + pd.to_timedelta(rng.integers(-1, 26, n), unit="D")
    handed = handed.where(rng.random(n) < 0.55)
    rejected = reached + pd.to_timedelta(rng.integers(0, 16, n), unit="D")
    rejected = rejected.where(handed.isna() & (rng.random(n) < 0.2))
    contacted = reached + pd.to_timedelta(rng.integers(0, 4, n), unit="D")
    contacted = contacted.where(rng.random(n) < 0.3)
    return pd.DataFrame({"reached": reached, "handed": handed, "rejected": rejected, "contacted": contacted})


def measured(records: pd.DataFrame, rule: HandoffRule, with_contacts: bool) -> pd.DataFrame:
    def days(col):
        return records[col].to_numpy(dtype="datetime64[D]")
    found = measure_handoff(rule, days("reached"), days("handed"), days("rejected"), np.datetime64(AS_OF.date()),
                            records["reached"].dt.strftime("%Y-%m").to_numpy(),
                            days("contacted") if with_contacts else None)
    return pd.DataFrame([{k: getattr(m, k) for k in ("month", "records", "handed_on", "within_rule", "median_days",
                                                      "p90_days", "never", "in_window")} for m in found])


@pytest.mark.parametrize("business", [False, True])
@pytest.mark.parametrize("with_contacts", [False, True])
@pytest.mark.parametrize("seed", [1, 2])
def test_handoff_kpis_equal_an_independent_pandas_computation(business, with_contacts, seed):
    records = generated_records(seed)
    rule = HandoffRule("MQLs", "SQLs", response_days=2, business_days=business, acceptance_days=10)
    got = measured(records, rule, with_contacts)
    expected = pandas_oracle(records, rule, AS_OF, with_contacts)
    assert list(got["month"]) == [f"2027-0{m}" for m in range(1, 7)]
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, atol=1e-12, rtol=0)
    june = got.iloc[-1]
    assert june["in_window"] > 0                     # young records: neither met nor missed yet
    assert got.iloc[0]["in_window"] == 0
    # the June share counts only the records whose response is known: fewer than June's records
    assert 0 < june["within_rule"] < 1


def test_records_inside_their_window_are_neither_met_nor_missed():
    day = np.datetime64("2027-06-30")
    reached = np.array(["2027-06-29", "2027-06-29", "2027-06-10", "2027-06-10"], dtype="datetime64[D]")
    handed = np.array(["NaT", "2027-06-30", "NaT", "2027-06-28"], dtype="datetime64[D]")
    rule = HandoffRule("MQLs", "SQLs", response_days=3, acceptance_days=5, within_share=0.5, max_never=0.5)
    (june,) = measure_handoff(rule, reached, handed, np.full(4, "NaT", dtype="datetime64[D]"), day,
                              np.array(["2027-06"] * 4, dtype=object))
    # known responses: the one handed on in a day (in time), the old one never handed (missed), the old one
    # handed after 18 days (missed); the young record not handed yet is not counted
    assert june.within_rule == pytest.approx(1 / 3)
    assert june.never == pytest.approx(2 / 3)       # of the 3 handled or past their window, 2 never picked up
    assert june.in_window == 1 and june.handed_on == 2
    assert (june.median_days, june.p90_days) == (pytest.approx(9.5), pytest.approx(16.3))
    assert june.within_met is False and june.never_met is False
    assert june.to_dict()["rule"]["response_days"] == 3


def test_without_an_acceptance_window_never_is_not_measured():
    rule = HandoffRule("MQLs", "SQLs", response_days=1)
    reached = np.array(["2027-01-04"], dtype="datetime64[D]")
    (jan,) = measure_handoff(rule, reached, reached + 1, np.array(["NaT"], dtype="datetime64[D]"),
                             np.datetime64("2027-01-31"), np.array(["2027-01"], dtype=object))
    assert jan.never is None and jan.never_met is None and jan.within_rule == 1.0 and jan.within_met


def test_business_days_skip_the_weekend():
    friday, monday = np.datetime64("2027-01-08"), np.datetime64("2027-01-11")
    assert elapsed_days(np.array([friday]), np.array([monday]), True)[0] == 1
    assert elapsed_days(np.array([friday]), np.array([monday]), False)[0] == 3
    assert elapsed_days(np.array([monday]), np.array([friday]), True)[0] == 0       # before: 0, never negative
