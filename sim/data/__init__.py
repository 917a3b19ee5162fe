"""The data layer: the DuckDB store, CSV imports, actuals, plans of record and plan-vs-actual
variance. Imports :mod:`sim.model`, never :mod:`sim.present`, :mod:`sim.cli` or the app."""
