"""Access control (ui/access.py) with AppTest: open, shared passwords, OIDC allow-lists.

Viewers read every page but cannot import, undo or save plans; editors can; strangers see
nothing but the log-in.
"""

from __future__ import annotations

import logging
import time

import pytest
from streamlit.testing.v1 import AppTest

from ui import access
from ui.access import EDITOR, VIEWER, role_for_email, role_for_password
from ui.login_limits import FIRST_BACKOFF, FREE_FAILURES

from ..conftest import ROOT, plain, snapshot_file

PASSWORDS = {"password": "view-Ξ-secret", "editor_password": "edit-secret"}
OIDC_AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32,
             "client_id": "id", "client_secret": "secret",
             "server_metadata_url": "https://idp.example.com/.well-known/openid-configuration"}
LISTS = {"editors": ["Ana@Example.com"], "viewers": ["*@board.example.com"]}


#: Every test on a database of its own, holding the demo's actuals and plan (conftest's ``db``).
pytestmark = pytest.mark.usefixtures("db")


def app(secrets: dict | None = None, user: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for key, value in (secrets or {}).items():
        at.secrets[key] = value
    if user is not None:
        at.user = user
    return at


def actuals_page(at: AppTest) -> AppTest:
    at.switch_page("app_pages/actuals.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def can_import(at: AppTest) -> bool:
    return any(u.key and u.key.startswith("actuals-upload") for u in at.get("file_uploader"))


def undo_buttons(at: AppTest) -> list:
    return [b for b in at.button if b.key and b.key.startswith("actuals-undo-")]


def test_open_without_secrets_everyone_edits():
    at = app().run()
    assert not at.exception
    assert "Password" not in [t.label for t in at.text_input] and at.metric, "no log-in: the Plan page at once"
    at = actuals_page(at)
    assert can_import(at) and undo_buttons(at)
    assert not [b for b in at.button if b.key == "access-logout"]


def test_password_gate_stops_everything_until_the_right_password():
    at = app({"access": PASSWORDS}).run()
    assert not at.exception
    (box,) = at.text_input
    assert box.label == "Password" and not at.metric and not at.get("vega_lite_chart")
    assert not at.get("file_uploader") and not at.get("dataframe")
    box.set_value("wrong")
    at.button[0].click().run()
    assert any("Wrong password" in e.value for e in at.error)
    assert not at.metric
    assert at.text_input[0].value == "", "the attempt is cleared"


@pytest.mark.parametrize("password, role", [(PASSWORDS["password"], VIEWER), (PASSWORDS["editor_password"], EDITOR)])
def test_password_grants_its_role(password, role):
    at = app({"access": PASSWORDS}).run()
    at.text_input[0].set_value(password)
    at.button[0].click().run()
    assert not at.exception and not at.error
    assert at.metric, "the Plan page is shown after the log-in"
    assert any(("viewer (read-only)" if role == VIEWER else "editor") in c.value for c in at.caption)
    at = actuals_page(at)
    assert can_import(at) is (role == EDITOR)
    assert bool(undo_buttons(at)) is (role == EDITOR)
    assert bool([b for b in at.button if b.key == "actuals-save-plan"]) is (role == EDITOR)
    if role == VIEWER:
        assert any("only editors can import" in i.value for i in at.info)
    # Log out: back to the password form.
    at.button(key="access-logout").click().run()
    assert [t.label for t in at.text_input] == ["Password"] and not at.metric


def test_viewer_cannot_save_the_check_in_reset():
    at = app({"access": PASSWORDS}).run()
    at.text_input[0].set_value(PASSWORDS["password"])
    at.button[0].click().run()
    at.switch_page("app_pages/checkin.py").run()
    assert not at.exception
    assert not [b for b in at.button if b.key == "checkin-save"]
    assert any("only editors can save" in c.value for c in at.caption)


def test_oidc_logged_out_sees_only_the_log_in():
    at = app({"access": LISTS, "auth": OIDC_AUTH}, user={"is_logged_in": False}).run()
    assert not at.exception
    assert [b.label for b in at.button] == ["Log in"] and not at.metric


@pytest.mark.parametrize("email, role", [("ana@example.com", EDITOR), ("ceo@board.example.com", VIEWER),
                                         ("mallory@example.org", None)])
def test_oidc_allow_lists(email, role):
    at = app({"access": LISTS, "auth": OIDC_AUTH},
             user={"is_logged_in": True, "email": email, "email_verified": True}).run()
    assert not at.exception
    if role is None:
        assert any("not on the list" in e.value for e in at.error) and not at.metric
        return
    assert at.metric and any(email in plain(c.value) for c in at.caption)
    at = actuals_page(at)
    assert can_import(at) is (role == EDITOR)


def test_oidc_lists_without_a_login_configured_fail_closed():
    at = app({"access": LISTS}, user={"is_logged_in": True, "email": "ana@example.com"}).run()
    assert any("no OIDC login is configured" in e.value for e in at.error)
    assert not at.metric


def test_role_helpers():
    access = {"password": "a", "editor_password": "b", **LISTS}
    assert role_for_password("a", access) == VIEWER and role_for_password("b", access) == EDITOR
    assert role_for_password("", access) is None and role_for_password("A", access) is None
    assert role_for_password("a", {"editor_password": "b"}) is None
    assert role_for_email("ANA@example.com ", access) == EDITOR
    assert role_for_email("x@board.example.com", access) == VIEWER
    assert role_for_email("x@evilboard.example.com", access) is None, "a domain pattern needs the @"
    assert role_for_email(None, access) is None


@pytest.mark.parametrize("verified", [False, None, "false", "yes"])
def test_oidc_an_unverified_address_is_not_on_any_list(verified):
    """Finding 12: the allow-lists trust an address only when the identity provider says it
    has verified it (``email_verified`` true): anyone can create an account showing any
    address at some providers."""
    user = {"is_logged_in": True, "email": "ana@example.com"} | ({} if verified is None else {"email_verified": verified})
    at = app({"access": LISTS, "auth": OIDC_AUTH}, user=user).run()
    assert any("not on the list" in e.value for e in at.error) and not at.metric
    assert role_for_email("ana@example.com", LISTS, verified) is None


@pytest.mark.parametrize("verified", [True, "true", "True"])
def test_oidc_a_verified_address_as_providers_send_it(verified):
    assert role_for_email("ana@example.com", LISTS, verified) == EDITOR


def test_oidc_a_provider_without_the_claim_can_be_trusted_explicitly():
    lists = LISTS | {"require_verified_email": False}
    at = app({"access": lists, "auth": OIDC_AUTH}, user={"is_logged_in": True, "email": "ana@example.com"}).run()
    assert at.metric and not at.error
    assert role_for_email("ana@example.com", lists, None) == EDITOR


def sign_in(at: AppTest, password: str) -> AppTest:
    at.text_input[0].set_value(password)
    at.button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_a_role_holds_only_in_the_browser_that_signed_in(monkeypatch):
    """Finding 4: a session resumed over the WebSocket (its id is enough) kept the editor's role
    in session state. The role is tied to the browser's key (its XSRF cookie; here stood in for,
    AppTest having no cookies) and checked on every run and every write."""
    browser = {"key": "editor's browser"}
    monkeypatch.setattr(access, "_browser_key", lambda: browser["key"])
    at = sign_in(app({"access": PASSWORDS}).run(), PASSWORDS["editor_password"])
    at = actuals_page(at)
    assert can_import(at) and undo_buttons(at)
    browser["key"] = "another browser, same session"
    at.run()
    assert [t.label for t in at.text_input] == ["Password"], "the log-in again"
    assert not can_import(at) and not undo_buttons(at)
    browser["key"] = "editor's browser"
    at = actuals_page(at.run())
    assert can_import(at), "the editor's own browser keeps the role"


def test_a_click_from_another_browser_changes_nothing(monkeypatch, db):
    """A write checks the role again: an Undo clicked in a session resumed elsewhere undoes nothing."""
    browser = {"key": "editor's browser"}
    monkeypatch.setattr(access, "_browser_key", lambda: browser["key"])
    at = actuals_page(sign_in(app({"access": PASSWORDS}).run(), PASSWORDS["editor_password"]))
    (undo, *_) = undo_buttons(at)
    before = snapshot_file(db)
    browser["key"] = "another browser"
    undo.click().run()
    assert snapshot_file(db) == before


def test_a_sign_in_expires(monkeypatch):
    at = sign_in(app({"access": PASSWORDS}).run(), PASSWORDS["password"])
    assert at.metric
    now = time.time()
    monkeypatch.setattr(access.time, "time", lambda: now + access.SIGN_IN_SECONDS + 1)
    at.run()
    assert [t.label for t in at.text_input] == ["Password"] and not at.metric


def test_wrong_passwords_are_limited_logged_and_never_written_down(monkeypatch, caplog):
    """Finding 5: guessing was unlimited and silent. After a few wrong passwords from one
    source, even the right one is refused until the back-off has passed, in any session;
    each failure is logged, without the password."""
    clock = {"now": 1000.0}
    monkeypatch.setattr(access, "_clock", lambda: clock["now"])
    caplog.set_level(logging.WARNING, logger="funnel.access")
    at = app({"access": PASSWORDS}).run()
    for n in range(FREE_FAILURES):
        sign_in(at, f"guess-{n}")
        assert any("Wrong password" in e.value for e in at.error)
    sign_in(at, PASSWORDS["editor_password"])
    assert any("Too many wrong passwords: try again in 30 s" in e.value for e in at.error) and not at.metric
    fresh = sign_in(app({"access": PASSWORDS}).run(), PASSWORDS["editor_password"])      # a new session
    assert any("Too many wrong passwords" in e.value for e in fresh.error) and not fresh.metric
    clock["now"] += FIRST_BACKOFF
    sign_in(fresh, PASSWORDS["editor_password"])
    assert fresh.metric and not fresh.error, "after the back-off the right password works"
    lines = [r.getMessage() for r in caplog.records if r.name == "funnel.access"]
    assert sum("wrong password from" in line for line in lines) == FREE_FAILURES
    assert any("refused unchecked" in line for line in lines)
    assert not [line for line in lines if "guess-" in line or "secret" in line]
