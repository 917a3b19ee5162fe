"""The one name rule (sim.model.names): which characters any name may hold, which a stage name
may hold, and how names are shown safely whatever was stored before the rule."""

from __future__ import annotations

import pytest

from sim.errors import ScenarioError
from sim.model.names import fold_name, is_refused_character, name_problem, printable, stage_name_problem, tidy_name
from sim.model.scenario_names import renamed

from ..conftest import small_scenario

#: Characters that abort a chart renderer, rewrite a terminal or hide in plain sight.
REFUSED = {
    "\x01": "U+0001", "\x1b": "U+001B", "\x7f": "U+007F", "\x9b": "U+009B",     # C0, DEL, C1 (CSI)
    "\u200b": "U+200B", "\u200d": "U+200D", "\u2060": "U+2060", "\ufeff": "U+FEFF",  # zero-width, BOM
    "\u202e": "U+202E", "\u2066": "U+2066",                                          # bidi overrides
    "\U000e0041": "U+E0041", "\ue000": "U+E000", "\u0378": "U+0378",              # tag, private, unassigned
    "\u3164": "U+3164", "\u115f": "U+115F", "\ufe0f": "U+FE0F", "\u034f": "U+034F",  # fillers, selectors
}


@pytest.mark.parametrize("ch", list(REFUSED))
def test_no_name_holds_a_control_or_invisible_character(ch):
    for name in (f"Le{ch}ads", f"{ch}Leads", f"Leads{ch}"):
        problem = name_problem(name)
        assert problem == f"contains control or invisible characters ({REFUSED[ch]})"
        assert stage_name_problem(name) == problem
        assert printable(name) == "Leads"


@pytest.mark.parametrize("name", ["Leads", "Qualifiés", "Sales-accepted leads (SAL)", "R&D #2", "1st call",
                                  "Won't buy / recycled", "Q1 + Q2", "É" * 40, "Ünïcödé 名前"])
def test_ordinary_stage_names_are_accepted(name):
    assert name_problem(name) is None and stage_name_problem(name) is None


@pytest.mark.parametrize("name", ["=SUM(A1)", "+SQLs", "-Leads", "@Customers", "_Leads", "![](http://x/p.png)",
                                  "<img src=x>", "Leads: won", "a" * 41, "Leads;", "`code`", "[x](y)", "Le$ads"])
def test_a_stage_name_starts_with_a_letter_or_digit_and_holds_no_markup(name):
    assert stage_name_problem(name) == ("must be at most 40 characters of letters, digits, spaces and "
                                        "- & / ( ) . ' # +, starting with a letter or digit")


def test_every_ascii_character_is_judged_as_character_by_character():
    """printable and name_problem answer plain ASCII text at once: the same as the rule applied
    to each character (line breaks and tabs kept by printable, folded in names; controls and
    DEL removed or refused)."""
    for code in range(128):
        ch = chr(code)
        refused = is_refused_character(ch)
        assert refused == (code < 32 or code == 127)
        assert printable(f"Le{ch}ads") == ("Le" + ch + "ads" if ch in "\n\t" or not refused else "Leads")
        assert (name_problem(f"Le{ch}ads") is None) == (ch.isspace() or not refused)


def test_white_space_of_any_kind_is_folded_not_refused():
    assert name_problem("Le\tads\n 2\u00a0\u3000x") is None
    assert tidy_name(" Le\tads\n\n2\u00a0x ") == "Le ads 2 x"


def test_composed_and_decomposed_accents_are_one_name():
    decomposed = "Qualifie\u0301s"
    assert tidy_name(decomposed) == "Qualifiés" and fold_name(decomposed) == fold_name("QUALIFIÉS")
    assert stage_name_problem(decomposed) is None


def test_zero_width_characters_cannot_make_a_second_leads():
    """Finding 12: "Leads" and "Le\\u200bads" were two stages of one funnel."""
    with pytest.raises(ScenarioError, match=r"stages\[1\]\.name contains control or invisible characters \(U\+200B\)"):
        small_scenario(stages=[{"name": "Leads"}, {"name": "Le\u200bads", "rate": {"fixed": 0.5}}])


def test_scenario_names_follow_the_rule_and_stage_names_the_stage_rule():
    with pytest.raises(ScenarioError, match=r"^name contains control or invisible characters \(U\+001B\)"):
        small_scenario(name="Plan \x1b[2J")
    assert small_scenario(name="=HYPERLINK(\"x\") & <b>*free* text</b>").name.startswith("=HYPERLINK")
    with pytest.raises(ScenarioError, match=r"stages\[0\]\.name must be at most 40 characters"):
        small_scenario(stages=[{"name": "=1+1"}, {"name": "Won", "rate": {"fixed": 0.5}}])


def test_a_renamed_scenario_follows_the_rule():
    sc = small_scenario()
    assert renamed(sc, "Q1 — plan").name == "Q1 — plan"
    for bad, why in (("x\u202e", "control or invisible"), ("", "non-empty"), ("x" * 201, "at most 200")):
        with pytest.raises(ScenarioError, match=why):
            renamed(sc, bad)


@pytest.mark.parametrize("field, value, message", [
    ("trials", 2_000_001, "trials must be <= 2,000,000 (got 2,000,001)"),
    ("goal", 10**13 + 1, "goal must be <= 10,000,000,000,000 (got 10,000,000,000,001)"),
    ("months", 37, "months must be <= 36 (got 37)"),
])
def test_limits_in_messages_are_exact_numbers(field, value, message):
    """Finding 12: "trials must be <= 2e+06 (got 2e+06)" (2,000,001 rounded away)."""
    with pytest.raises(ScenarioError) as info:
        small_scenario(**{field: value})
    assert message in info.value.problems


def test_a_fraction_over_its_bound_is_shown_to_the_last_digit():
    with pytest.raises(ScenarioError) as info:
        small_scenario(stages=[{"name": "Top"}, {"name": "Won", "rate": {"fixed": 1.0000000000000002}}])
    assert "stages[1].rate.fixed must be <= 1 (got 1.0000000000000002)" in info.value.problems
