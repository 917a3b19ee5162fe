"""What the command line prints: JSON documents and plain-text tables.

Names come from files and databases, some written before today's name rules: everything
printed is made safe for a terminal first. Text loses its control and invisible characters
(an escape sequence in a stage name could otherwise rewrite the terminal); JSON keeps them,
written as ``\\uXXXX`` escapes (the same document for a JSON reader).
"""

from __future__ import annotations

import json
import sys

from ..model.names import is_refused_character, printable


def _json_escape(ch: str) -> str:
    code = ord(ch)
    if code > 0xFFFF:           # as a UTF-16 surrogate pair, as JSON writes it
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def terminal_json(doc) -> str:
    """``doc`` as indented JSON, non-ASCII characters as they are except control and invisible
    ones, which are escaped."""
    text = json.dumps(doc, indent=2, ensure_ascii=False)
    return "".join(_json_escape(ch) if ch not in "\n" and is_refused_character(ch) else ch for ch in text)


def print_json(doc) -> int:
    """One JSON document on stdout (see :func:`terminal_json`)."""
    print(terminal_json(doc))
    return 0


def print_lines(lines) -> int:
    print("\n".join(printable(line) for line in lines))
    return 0


def print_error(line: str) -> None:
    """One line on stderr, without control or invisible characters."""
    print(printable(line).replace("\n", " "), file=sys.stderr)


def money(value: float) -> str:
    return f"{value:,.0f}"


def money_or_dash(value) -> str:
    return "-" if value is None else money(value)


def count(value) -> str:
    return "-" if value is None else f"{value:,}"


def percent_or_dash(value) -> str:
    return "-" if value is None else f"{value:.2%}"


def table(header, rows) -> list[str]:
    """A text table: the first column left-aligned, the others right-aligned."""
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]

    def line(row):
        return "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                         for i, (c, w) in enumerate(zip(row, widths)))
    return [line(header), line(["-" * w for w in widths])] + [line(r) for r in rows]


def months_plural(n: int) -> str:
    return f"{n} month{'s' if n != 1 else ''}"


# -- one function per command's text -----------------------------------------------------------

def forecast_text(scenario, result, seed: int, trials: int, sens_trials: int, rows) -> list[str]:
    out = [f"{scenario.name}: {scenario.month_labels[0]} to {scenario.month_labels[-1]}, "
           f"goal {money(scenario.goal)}, {trials:,} trials, seed {seed}",
           f"P(goal) = {result.p_goal:.1%}  (95% Monte Carlo interval {result.p_goal_ci.low:.1%} to "
           f"{result.p_goal_ci.high:.1%})",
           f"Revenue: mean {money(result.revenue.mean)}, P10 {money(result.revenue.p10)}, "
           f"P50 {money(result.revenue.p50)}, P90 {money(result.revenue.p90)}",
           f"Still in the pipeline at the end: {result.late_customers.mean:.1f} customers expected, "
           f"worth {money(result.pipeline_value.mean)}", ""]
    out += table(["Stage", "Owner", "Mean", "P10", "P50", "P90"],
                 [[s.name, s.owner, f"{s.total.mean:,.1f}", f"{s.total.p10:,.0f}",
                   f"{s.total.p50:,.0f}", f"{s.total.p90:,.0f}"] for s in result.stages])
    out.append("")
    out += table(["Month", "Revenue P10", "P50", "P90", "Cumulative P50"],
                 [[m.month, money(m.revenue.p10), money(m.revenue.p50), money(m.revenue.p90),
                   money(m.cumulative.p50)] for m in result.months])
    out.append("")
    out.append(f"Sensitivity ({sens_trials:,} trials per run): P(goal) with each input at its P10 / P90")
    out += table(["Input", "Owner", "At P10", "At P90", "Swing"],
                 [[r.input, r.owner, f"{r.p_goal_low:.1%}", f"{r.p_goal_high:.1%}",
                   f"{r.swing * 100:+.1f} pts"] for r in rows])
    return out


def targets_text(scenario, result) -> list[str]:
    expected_value, at_confidence = result.expected_value, result.at_confidence
    out = [f"{scenario.name}: goal {money(scenario.goal)}",
           f"Expected-value plan: top-of-funnel plan x {expected_value.scale:.3f} "
           f"(expected revenue {money(expected_value.expected_revenue)})"]
    if result.reachable:
        out.append(f"For P(goal) >= {result.confidence:.0%}: plan x {at_confidence.scale:.3f} "
                   f"(simulated P(goal) {at_confidence.p_goal:.1%}, {result.trials:,} trials)")
    else:
        out.append(f"P(goal) >= {result.confidence:.0%} is out of reach: even plan x {at_confidence.scale:.1f} "
                   f"gives P(goal) {at_confidence.p_goal:.1%}")
    months = scenario.month_labels
    for title, plan in (("Expected-value plan", expected_value), (f"At {result.confidence:.0%} confidence", at_confidence)):
        out += ["", f"{title}: volume needed per month"]
        out += table(["Stage", "Total"] + [m[2:] for m in months],
                     [[s.name, f"{s.total:,.0f}"] + [f"{v:,.0f}" for v in s.monthly] for s in plan.stages])
    return out


def actuals_text(actuals) -> list[str]:
    revenue = dict(actuals.revenue)
    rows = [[m] + [count(actuals.count(m, s)) for s in actuals.stages] + [money_or_dash(revenue.get(m))]
            for m in actuals.months]
    return table(["Month", *actuals.stages, "Revenue"], rows)


def history_text(history) -> list[str]:
    rows = [[f"#{h.import_id}", f"{h.imported_at:%Y-%m-%d %H:%M}", h.file_name, h.format, f"{h.rows:,}",
             f"{h.first_month or '-'}..{h.last_month or '-'}", ", ".join(h.stages) or "-",
             "undone" if h.undone_at else "active"] for h in history]
    return table(["Import", "Time", "File", "Format", "Rows", "Months", "Stages", "State"], rows)


def plans_text(plans) -> list[str]:
    rows = [[f"#{p.id}", p.name, f"{p.saved_at:%Y-%m-%d %H:%M}", p.scenario.name,
             f"{p.scenario.month_labels[0]}..{p.scenario.month_labels[-1]}", f"{p.p_goal:.1%}"] for p in plans]
    return table(["Plan", "Name", "Saved", "Scenario", "Months", "P(goal)"], rows)


def comparison_text(comparison, db_path, segment: str | None = None) -> list[str]:
    plan = comparison.plan
    which = f"the actuals of segment '{segment}'" if segment is not None else "the actuals"
    out = [f"Plan '{plan.name}' ({plan.scenario.name}) against {which} in {db_path}"]
    if comparison.empty:
        return out + ["No actuals fall in the plan's months yet."]
    out += ["", "Revenue (cumulative includes the baseline)"]
    out += table(["Month", "Actual", "Plan P50", "Cumulative", "Plan P10", "P50", "P90", "Status"],
                 [[r.month, money_or_dash(r.actual), money(r.p50), money_or_dash(r.cumulative_actual),
                   money(r.cumulative_p10), money(r.cumulative_p50), money(r.cumulative_p90), r.status or "-"]
                  for r in comparison.revenue if r.cumulative_actual is not None])
    if comparison.missing_revenue_months:
        out += [f"No revenue actual for {', '.join(comparison.missing_revenue_months)}: counted as 0."]
    out += ["", "Stages: actual against the plan's P50 and P10-P90 band"]
    out += table(["Stage", "Owner", "Month", "Actual", "Plan P50", "P10", "P90", "Variance", "%", "Status"],
                 [[r.stage, r.owner, r.month, f"{r.actual:,}", f"{r.p50:,.0f}", f"{r.p10:,.0f}",
                   f"{r.p90:,.0f}", f"{r.variance:+,.0f}",
                   "-" if r.variance_pct is None else f"{r.variance_pct:+.0%}", r.status]
                  for r in comparison.stages])
    if comparison.unplanned_stages:
        out += ["", f"Stages with actuals that the plan does not have: {', '.join(comparison.unplanned_stages)}"]
    return out


def checkin_text(check, saved) -> list[str]:
    sc = check.scenario
    lo, p50, hi = check.revenue_band
    done_n, left_n = len(check.months_done), len(check.months_left)
    out = [f"Check-in of '{check.plan_name}' after {check.as_of} ({months_plural(done_n)} "
           f"done, {left_n} left); goal {money(sc.goal)}",
           f"Revenue to date: {money(check.revenue_to_date)} ({check.revenue_status} the plan's band for "
           f"{check.as_of}: P10 {money(lo)}, P50 {money(p50)}, P90 {money(hi)})"]
    if check.missing_revenue_months:
        out.append(f"No revenue actuals for {', '.join(check.missing_revenue_months)}: counted as 0.")
    if check.goal_reached:
        out.append(f"The goal is reached: P(goal) = 100%, surplus {money(check.surplus)}.")
    else:
        out.append(f"P(goal): {check.p_goal_plan:.1%} at plan time -> {check.p_goal_now:.1%} now "
                   f"(95% Monte Carlo interval {check.p_goal_now_ci.low:.1%} to {check.p_goal_now_ci.high:.1%})")
    if check.won_fees_note:
        out.append(check.won_fees_note)
    if check.conflict_note:
        out += ["", check.conflict_note]
    out += ["", "Where we stand (volume to date against the plan's P10-P90)"
            + (f"; bottleneck: {check.bottleneck}" if check.bottleneck else "")]
    out += table(["Stage", "Owner", "Actual", "Plan P10", "P50", "P90", "Status", "Rate: plan", "updated",
                  "naive", "Open"],
                 [[c.name, c.owner, count(c.actual), f"{c.plan_p10:,.0f}", f"{c.plan_p50:,.0f}",
                   f"{c.plan_p90:,.0f}", c.status, percent_or_dash(c.rate_prior_mean),
                   percent_or_dash(c.rate_posterior_mean), percent_or_dash(c.naive_rate), f"{c.open_pipeline:,}"]
                  for c in check.stages])
    if check.reset is not None:
        out += ["", f"Reset: volumes needed per month for P(goal) >= {check.confidence:.0%} "
                    f"(plan x {check.reset.at_confidence.scale:.3f}; simulated P(goal) "
                    f"{check.reset.at_confidence.p_goal:.1%}); in brackets the plan's"]
        old = dict(check.plan_targets_left)
        out += table(["Stage"] + [m[2:] for m in check.months_left],
                     [[s.name] + [f"{v:,.0f} ({o:,.0f})" for v, o in zip(s.monthly, old[s.name])]
                      for s in check.reset.at_confidence.stages])
    if check.reset_note:
        out += ["", check.reset_note]
    if saved is not None:
        out += ["", f"Saved the reset as plan #{saved.id} '{saved.name}'."]
    return out


def segments_text(split) -> list[str]:
    """The actuals by segment: per stage, a month × segment table; then revenue."""
    out = []
    segments = [g for g, _ in split.segments]
    if any(g == "(no segment)" for _, _, g, _ in split.counts):
        segments.append("(no segment)")
    months = sorted({m for m, _, _, _ in split.counts} | {m for m, _, _ in split.revenue})
    stages = list(dict.fromkeys(s for _, s, _, _ in split.counts))
    cell = {(m, s, g): c for m, s, g, c in split.counts}
    for stage in stages:
        shown = [g for g in segments if any((m, stage, g) in cell for m in months)]
        out += ["", f"{stage} by segment"]
        out += table(["Month", *shown], [[m] + [count(cell.get((m, stage, g))) for g in shown] for m in months])
    money_cell = {(m, g): r for m, g, r in split.revenue}
    shown = [g for g in segments if any((m, g) in money_cell for m in months)]
    if shown:
        out += ["", "Revenue by segment"]
        out += table(["Month", *shown], [[m] + [money_or_dash(money_cell.get((m, g))) for g in shown] for m in months])
    return out[1:]


def options_as_arguments(chosen: dict) -> str:
    """Guessed import options as the command line's options."""
    flags = {"format": "--format", "id_column": "--id", "amount_column": "--amount", "date_format": "--date-format",
             "outcome_column": "--outcome", "closed_column": "--closed", "segment_column": "--segment",
             "stage_column": "--stage-column", "date_column": "--date-column", "sheet": "--sheet"}
    parts = []
    for key, value in chosen.items():
        if key == "mapping":
            parts += [f"--map {_quote(f'{c}={s}')}" for c, s in value]
        elif key in ("won_values", "lost_values"):
            parts.append(f"--{key.split('_')[0]} {_quote(','.join(value))}")
        elif key == "lost_stages":
            parts += [f"--lost-stage {_quote(v)}" for v in value]
        elif key in flags:
            parts.append(f"{flags[key]} {_quote(str(value))}")
    return " ".join(parts)


def _quote(text: str) -> str:
    import shlex
    return shlex.quote(text)


def preview_text(preview, guessed: str | None) -> list[str]:
    """What an import would do (``import --preview``)."""
    out = []
    if guessed is not None:
        out.append(f"Guessed: {guessed or '(nothing to guess)'}")
    kind = {"history": "stage-history"}.get(preview.format, preview.format)
    out.append(f"{preview.file_name}" + (f", sheet '{preview.sheet}'" if preview.sheet else "")
               + f": {preview.rows:,} rows in the {kind} format; stages {', '.join(preview.stages) or '-'}"
               + (f" (new: {', '.join(preview.new_stages)})" if preview.new_stages else "")
               + ". Nothing was written.")
    if preview.outcomes is not None:
        o = preview.outcomes
        out.append(f"Outcomes: {o['won']:,} won (counted as {preview.won_stage}), {o['lost']:,} lost, {o['open']:,} open.")
    out += ["", "The first rows:"]
    out += table(list(preview.columns), [["-" if v is None else str(v) for v in r] for r in preview.first_rows])
    months = preview.months
    revenue = dict(preview.revenue)
    out += ["", "The monthly counts this file gives:"]
    out += table(["Month", *preview.stages, "Revenue"],
                 [[m] + [count(preview.count(m, s)) for s in preview.stages] + [money_or_dash(revenue.get(m))]
                  for m in months])
    out += [f"Note: {n}." for n in preview.notes]
    return out
