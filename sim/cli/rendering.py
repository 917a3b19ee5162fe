"""What the command line prints: JSON documents and plain-text tables."""

from __future__ import annotations

import json
import sys


def print_json(doc) -> int:
    """One JSON document on stdout; non-ASCII characters as they are."""
    json.dump(doc, sys.stdout, indent=2, ensure_ascii=False)
    print()
    return 0


def print_lines(lines) -> int:
    print("\n".join(lines))
    return 0


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


def comparison_text(comparison, db_path) -> list[str]:
    plan = comparison.plan
    out = [f"Plan '{plan.name}' ({plan.scenario.name}) against the actuals in {db_path}"]
    if comparison.empty:
        return out + ["No actuals fall in the plan's months yet."]
    out += ["", "Revenue (cumulative includes the baseline)"]
    out += table(["Month", "Actual", "Plan P50", "Cumulative", "Plan P10", "P50", "P90", "Status"],
                 [[r.month, money_or_dash(r.actual), money(r.p50), money_or_dash(r.cumulative_actual),
                   money(r.cumulative_p10), money(r.cumulative_p50), money(r.cumulative_p90), r.status or "-"]
                  for r in comparison.revenue if r.actual is not None])
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
