"""The server's settings (.streamlit/config.toml) and the conventions of the pages that go with them."""

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


def _download_buttons(path: Path) -> list[ast.Call]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
            and n.func.attr == "download_button"]


def test_no_download_reruns_its_page():
    """Streamlit reruns the page on a download's click unless told not to; that run gives each
    deferred download a new file id while the click's own request for the old one may still be
    on its way. Every download button of the app says ``on_click="ignore"``."""
    calls = {path.relative_to(ROOT).as_posix(): _download_buttons(path)
             for path in [*SCRIPTS, *sorted((ROOT / "ui").glob("*.py"))]}
    assert sum(len(c) for c in calls.values()) >= 8
    rerunning = [f"{name}:{call.lineno}" for name, found in calls.items() for call in found
                 if not any(k.arg == "on_click" and isinstance(k.value, ast.Constant) and k.value.value == "ignore"
                            for k in call.keywords)]
    assert rerunning == []
