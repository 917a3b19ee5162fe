"""The server's settings (.streamlit/config.toml) that the pages rely on."""

import ast
import tomllib
from pathlib import Path

import pytest
from streamlit.runtime.scriptrunner import magic

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = [ROOT / "app.py", *sorted((ROOT / "app_pages").glob("*.py"))]


def test_magic_is_off():
    settings = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert settings["runner"]["magicEnabled"] is False


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_no_page_writes_a_bare_expression(script):
    """With Streamlit's "magic" off, a bare expression in a page (a name, a string, a table on
    a line of its own) would show nothing: no page has one. Streamlit's own magic rewriting finds
    them (each becomes a call of its writer)."""
    source = script.read_text(encoding="utf-8")
    rewritten = ast.unparse(magic.add_magic(source, str(script)))
    written = [line.strip() for line in rewritten.splitlines() if "transparent_write(" in line]
    assert written == []


def test_the_check_finds_a_bare_expression():
    rewritten = ast.unparse(magic.add_magic("import streamlit as st\nx = 1\nx\n", "page.py"))
    assert sum("transparent_write(" in line for line in rewritten.splitlines()) == 1
