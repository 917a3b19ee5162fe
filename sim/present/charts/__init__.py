"""Altair charts of forecasts, targets, sensitivity, plan vs actual and the check-in."""

from .forecast import *  # noqa: F401,F403 - the chart functions, re-exported
