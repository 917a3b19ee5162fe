"""AppTest of the Summary page: one screen for executives, no inputs, the numbers of the
library for the scenario in the URL, share link and downloads."""

from __future__ import annotations

import json
import re

from sim import required_volumes, simulate
from sim.present.describe import assumptions, sla_verdict, verdict
from sim.present.markdown import escape_markdown
from sim.present.sla import sla_sentences
from ui.compute import SEARCH_TRIALS

from .apptest import PROBABILITY, metric, open_app, small_demo

PAGE = "app_pages/summary.py"
INPUT_WIDGETS = ("button", "checkbox", "toggle", "radio", "selectbox", "multiselect", "slider",
                 "select_slider", "number_input", "text_input", "text_area", "date_input", "time_input",
                 "color_picker", "file_uploader", "chat_input")


def unescaped(markdown: str) -> str:
    """Markdown as the reader sees it: backslash escapes and word joiners removed."""
    return re.sub(r"\\(.)", r"\1", markdown).replace("\u2060", "")


def page_text(at) -> str:
    return "\n".join(unescaped(e.value) for e in [*at.markdown, *at.subheader, *at.caption,
                                                   *at.success, *at.warning, *at.error])


def expected_targets(scenario, confidence):
    """The targets the app computes (ui.compute.targets), from the library."""
    return required_volumes(scenario, confidence, trials=min(scenario.trials, SEARCH_TRIALS))


def test_the_summary_shows_the_demo_forecast(demo):
    at = open_app(PAGE)
    f = simulate(demo)
    lo, hi = f.p_goal_ci.low, f.p_goal_ci.high
    assert metric(at, "Goal") == f"{demo.goal:,.0f}"
    assert metric(at, PROBABILITY) == f"{f.p_goal:.1%}"
    help_text = next(m.proto.help for m in at.metric if m.label == PROBABILITY)
    assert f"{lo:.1%}–{hi:.1%}" in help_text
    assert metric(at, "Expected revenue") == f"{f.revenue.mean:,.0f}"
    gap_label = "Gap to goal (median year)" if f.gap > 0 else "Ahead of goal (median year)"
    assert metric(at, gap_label) == f"{abs(f.gap):,.0f}"
    text = page_text(at)
    assert f"{demo.name}: are we on track?" in text
    assert verdict(f).detail in text
    charts = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    assert [c["title"]["text"] for c in charts] == ["Cumulative revenue"]


def test_the_summary_states_each_sides_commitments_and_the_assumptions(demo):
    at = open_app(PAGE)
    text = page_text(at)
    assert "The SLA at 80% confidence" in text
    for sentence in sla_sentences(demo, expected_targets(demo, 0.8)).values():
        assert sentence in text
    assert [e.label for e in at.expander] == ["The assumptions behind these numbers"]
    for line in assumptions(demo):
        assert line in text


def test_share_link_and_downloads(demo):
    at = open_app(PAGE)
    code = at.get("code")
    assert len(code) == 1
    assert code[0].proto.code_text.endswith(f"?s={demo.to_url_token()}&q=0.8")
    assert "Share this link: it reproduces these numbers." in page_text(at)
    buttons = {b.proto.label: b.proto for b in at.get("download_button")}
    assert set(buttons) == {"SLA table", "Scenario", "Report"}
    # Each file is made when its button is clicked (a viewer who only reads costs none of them);
    # tests/browser/test_browser_agreement.py downloads them and compares with the library.
    assert all(buttons[label].deferred_file_id and not buttons[label].url for label in buttons)


def test_the_summary_shows_the_scenario_and_confidence_of_the_url():
    sc = small_demo(goal=900_000.0, seed=7)
    at = open_app(PAGE, scenario=sc, q="0.9")
    assert at.session_state["scenario"] == sc
    f = simulate(sc)
    assert metric(at, "Goal") == "900,000"
    assert metric(at, PROBABILITY) == f"{f.p_goal:.1%}"
    assert metric(at, "Expected revenue") == f"{f.revenue.mean:,.0f}"
    text = page_text(at)
    assert "The SLA at 90% confidence" in text
    for sentence in sla_sentences(sc, expected_targets(sc, 0.9)).values():
        assert sentence in text
    assert verdict(f).detail in text


def test_the_summary_has_no_inputs():
    """No inputs; one button, "Make the SLA the plan" (issue 16)."""
    at = open_app(PAGE, scenario=small_demo())
    for kind in INPUT_WIDGETS:
        found = [w for w in at.get(kind) if not (kind == "button" and w.key == "summary-adopt-sla")]
        assert len(found) == 0, kind


def test_an_unlikely_goal_is_called_so():
    sc = small_demo(goal=5_000_000.0)
    at = open_app(PAGE, scenario=sc)
    f = simulate(sc)
    assert f.p_goal < 0.1
    targets = required_volumes(sc, 0.8, trials=min(sc.trials, SEARCH_TRIALS))
    assert [e.value for e in at.error] == [
        f"**Very unlikely.** {verdict(f).detail} {escape_markdown(sla_verdict(f, targets))}"]
    assert metric(at, "Gap to goal (median year)") == f"{f.gap:,.0f}"


def test_a_name_with_markup_is_shown_as_text():
    name = "**Q1** [win](https://evil.example) <b>bold</b> :red[x] $y$"
    at = open_app(PAGE, scenario=small_demo(name=name))
    heading = at.subheader[0].value
    assert unescaped(heading) == f"{name}: are we on track?"
    assert "\\*\\*Q1\\*\\*" in heading and "\\[win\\]" in heading and "\\<b\\>" in heading
    # After Markdown's escapes no web address is left that could be turned into a link.
    assert "https://" not in re.sub(r"\\(.)", r"\1", heading)


def test_a_second_viewer_gets_the_fan_chart_data_as_converted_for_the_first(monkeypatch):
    """The cached chart holds its data as Streamlit sends it (Arrow bytes): a second session
    on the same link converts nothing, and receives the same bytes as the first."""
    from streamlit import dataframe_util
    sc = small_demo(seed=4242)               # a link no other test opens: the first viewer builds
    convert = dataframe_util.convert_anything_to_arrow_bytes
    calls = []

    def counted(data, *args, **kwargs):
        calls.append(type(data).__name__)
        return convert(data, *args, **kwargs)

    monkeypatch.setattr(dataframe_util, "convert_anything_to_arrow_bytes", counted)

    def fan_data(at):
        (chart,) = at.get("vega_lite_chart")
        return [d.data.data for d in chart.proto.datasets]

    first = fan_data(open_app(PAGE, scenario=sc))
    assert calls                              # the first viewer's chart was converted once...
    calls.clear()
    second = fan_data(open_app(PAGE, scenario=sc))
    assert calls == []                        # ... and the second viewer's not at all
    assert second == first and all(isinstance(d, bytes) and d for d in first)


def test_viewers_of_one_link_share_the_cached_results_without_a_copy_each(monkeypatch):
    """The forecast and the search of a link are cached as shared objects: a second viewer (a
    session of its own) gets the very objects the first got, not an unpickled copy (about a
    millisecond of the server's CPU per viewer); they are frozen, so sharing them is safe."""
    import dataclasses

    import sim.present.sla
    import ui.widgets
    seen = []
    headline, sentences = ui.widgets.headline, sim.present.sla.sla_sentences
    monkeypatch.setattr(ui.widgets, "headline", lambda forecast, **kw: seen.append(forecast) or headline(forecast, **kw))
    monkeypatch.setattr(sim.present.sla, "sla_sentences",
                        lambda scenario, targets: seen.append(targets) or sentences(scenario, targets))
    sc = small_demo(seed=77)
    first, second = open_app(PAGE, scenario=sc), open_app(PAGE, scenario=sc)
    assert not first.exception and not second.exception
    forecasts = [x for x in seen if type(x).__name__ == "Forecast"]
    searches = [x for x in seen if type(x).__name__ == "Targets"]
    assert len(forecasts) >= 2 and all(f is forecasts[0] for f in forecasts), "a copy per viewer"
    assert len(searches) >= 2 and all(t is searches[0] for t in searches), "a copy per viewer"
    assert forecasts[0].p_goal == simulate(sc).p_goal
    for shared in (forecasts[0], searches[0]):
        assert dataclasses.fields(shared) and type(shared).__dataclass_params__.frozen
