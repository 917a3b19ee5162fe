"""Presentation without Streamlit: Altair charts, the HTML report, SLA tables, plain-words
descriptions, spreadsheet-safe CSV and Markdown escaping."""
