"""Streamlit glue shared by the pages: the scenario in the session and the URL, cached runs.

Pages in app_pages/ stay thin; the simulation itself is in sim/ (which never imports
Streamlit).
"""

from pathlib import Path

#: The app's project folder (the one holding app.py) and its data folder.
APP_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = APP_DIR / "data"
