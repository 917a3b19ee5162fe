"""The model: scenarios, beliefs, the Monte Carlo engine, forecasts, targets, sensitivity and
the check-in maths. numpy and scipy only: no DuckDB, pandas, Altair or Streamlit here."""
