"""Who may see the app and who may change what it stores.

Configured in ``.streamlit/secrets.toml`` (git-ignored; see ``.streamlit/secrets.example.toml``):

* nothing: the app is open and everyone is an *editor* (local use);
* a shared password: ``[access] password`` lets viewers in, ``[access] editor_password`` lets
  editors in (either may be set alone); passwords are compared in constant time;
* Streamlit's OIDC login (``[auth]``, ``st.login``) with allow-lists ``[access] editors`` and
  ``[access] viewers`` of e-mail addresses (``*@example.com`` admits a whole domain).

*Viewers* read every page and may move the planning inputs (a scenario lives in its link, not
on the server) but cannot change stored data: import, undo, save plans of record. The pages
ask :func:`can_edit`; the actions check it again.

A role granted by a password is tied to the browser that typed it, and expires: a Streamlit
session can be resumed by anyone who has its id (it shows in upload URLs and, before
ui.server_log, in the server's log), with its session state, so the role in session state is
honoured only while the connection carries the same browser key (the token of the XSRF cookie
Streamlit sets per browser, never sent to another) and for :data:`SIGN_IN_SECONDS`; it is
checked on every script run and on every write. With OIDC, Streamlit itself refuses to resume
a session for a connection without the same signed-in user. Wrong passwords are limited per
source and in total (ui.login_limits) and logged, without the password.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import secrets
import time

import streamlit as st

from sim.present.markdown import escape_markdown
from ui.login_limits import WINDOW, GuessLimiter

VIEWER, EDITOR = "viewer", "editor"
OPEN, PASSWORD, OIDC = "open", "password", "oidc"
ROLE = "access-role"            # session: the role granted by the password form
GRANT = "access-grant"          # session: (the browser it was granted to, when it expires)
SIGN_IN_SECONDS = 12 * 3600
#: The cookie Streamlit sets for its XSRF protection (one token per browser).
XSRF_COOKIE = "_streamlit_xsrf"
_KEY = secrets.token_bytes(32)  # this process's: a restart signs everyone out (sessions end anyway)
_LIMITER = GuessLimiter()
_log = logging.getLogger("funnel.access")


def _clock() -> float:
    return time.monotonic()


def _secrets() -> dict:
    try:
        return {k: st.secrets[k] for k in st.secrets}
    except Exception:  # noqa: BLE001 - no secrets.toml at all: the app is open
        return {}


def settings() -> tuple[str, dict]:
    """(mode, the [access] table)."""
    secrets = _secrets()
    access = dict(secrets.get("access", {}) or {})
    if access.get("editors") or access.get("viewers"):
        return OIDC, access
    if access.get("password") or access.get("editor_password"):
        return PASSWORD, access
    return OPEN, access


def _allowed(email: str, patterns) -> bool:
    email = email.strip().lower()
    for pattern in patterns or ():
        pattern = str(pattern).strip().lower()
        if pattern == email or (pattern.startswith("*@") and email.endswith(pattern[1:])):
            return True
    return False


def role_for_email(email: str | None, access: dict, verified: bool | None = True) -> str | None:
    """The role of a signed-in e-mail address by the allow-lists; None for an address the
    identity provider has not verified (``verified``: its ``email_verified`` claim, true or
    "true" as some providers send it), unless
    ``[access] require_verified_email = false`` (for a provider that never sends the claim)."""
    if not email:
        return None
    is_verified = verified is True or (isinstance(verified, str) and verified.strip().lower() == "true")
    if not is_verified and access.get("require_verified_email", True) is not False:
        return None
    if _allowed(email, access.get("editors")):
        return EDITOR
    if _allowed(email, access.get("viewers")):
        return VIEWER
    return None


def role_for_password(entered: str, access: dict) -> str | None:
    """The role a password grants, compared in constant time with each configured password."""
    entered_bytes = entered.encode("utf-8")
    granted = None
    for role, key in ((VIEWER, "password"), (EDITOR, "editor_password")):
        secret = access.get(key)
        if secret and hmac.compare_digest(entered_bytes, str(secret).encode("utf-8")):
            granted = role
    return granted


def _browser_key() -> str:
    """This connection's browser, as a keyed hash of its XSRF cookie's token ("" without one:
    XSRF protection off, or AppTest)."""
    raw = st.context.cookies.get(XSRF_COOKIE) if st.context.cookies else None
    token = b""
    if isinstance(raw, str) and raw:
        try:
            from streamlit.web.server.starlette.starlette_app_utils import decode_xsrf_token_string
            token = decode_xsrf_token_string(raw)[0] or b""
        except Exception:  # noqa: BLE001 - an unreadable cookie is a browser of its own
            token = b"unreadable:" + raw.encode("utf-8", "replace")
    return hmac.new(_KEY, token, hashlib.sha256).hexdigest()


def _source(access: dict) -> str:
    """Where a log-in attempt comes from: the client's address, or, behind a proxy that sets
    it, the last address of the header named by ``[access] client_ip_header``."""
    header = access.get("client_ip_header")
    if header:
        value = st.context.headers.get(str(header)) if st.context.headers else None
        if isinstance(value, str) and value.strip():
            return value.split(",")[-1].strip()[:64] or "unknown"
    address = st.context.ip_address
    return address if isinstance(address, str) and address else "unknown"


def _session_role(quiet: bool = False) -> str | None:
    """The role the password form granted to this session, if this browser was the one that
    typed it and it has not expired (``quiet``: do not log a refusal)."""
    ss = st.session_state
    role, grant = ss.get(ROLE), ss.get(GRANT)
    if role is None or not grant:
        return None
    browser, expires = grant
    if time.time() >= expires:
        ss.pop(ROLE, None)
        ss.pop(GRANT, None)
        return None
    if not hmac.compare_digest(browser, _browser_key()):
        if not quiet:
            _log.warning("a signed-in session was used from another browser: its role was not granted there")
        return None
    return role


def _check_password() -> None:
    ss = st.session_state
    _, access = settings()
    entered = ss.get("access-password", "")
    ss["access-password"] = ""
    source, now = _source(access), _clock()
    wait = _LIMITER.wait(source, now)
    if wait > 0:
        _log.warning("log-in attempt from %s refused unchecked: too many wrong passwords (wait %.0f s)", source, wait)
        ss["access-wrong"] = (f"Too many wrong passwords: try again in {_duration(wait)}. "
                              "Ask the planner's owner if you have lost the password.")
        return
    role = role_for_password(entered, access)
    if role is None:
        failures = _LIMITER.failed(source, now)
        _log.warning("wrong password from %s (%d in the last %d minutes)", source, failures, WINDOW // 60)
        ss["access-wrong"] = "Wrong password."
    else:
        _LIMITER.succeeded(source)
        ss[ROLE] = role
        ss[GRANT] = (_browser_key(), time.time() + SIGN_IN_SECONDS)
        ss.pop("access-wrong", None)


def _duration(seconds: float) -> str:
    return f"{math.ceil(seconds)} s" if seconds < 120 else f"{math.ceil(seconds / 60)} minutes"


def _log_out() -> None:
    st.session_state.pop(ROLE, None)
    st.session_state.pop(GRANT, None)


def _oidc_log_in() -> None:
    st.login()


def _oidc_log_out() -> None:
    st.logout()


def gate() -> str:
    """The session's role; shows the log-in and stops the page while there is none."""
    mode, access = settings()
    if mode == OPEN:
        return EDITOR
    if mode == PASSWORD:
        role = _session_role()
        if role:
            return role
        with st.columns([2, 3])[0]:
            st.subheader("Funnel SLA Planner")
            with st.form("access-login", border=True):
                st.text_input("Password", type="password", key="access-password")
                st.form_submit_button("Enter", on_click=_check_password, type="primary")
            if st.session_state.get("access-wrong"):
                st.error(st.session_state["access-wrong"], icon=":material/lock:")
            st.caption("Ask the planner's owner for the viewer or the editor password.")
        st.stop()
    # OIDC: authenticated by the identity provider, authorised by the allow-lists here.
    if "auth" not in _secrets():
        st.error("Access is restricted by e-mail ([access] editors/viewers in secrets.toml) but no OIDC "
                 "login is configured ([auth]): nobody can sign in. Ask the administrator.")
        st.stop()
    if not st.user.is_logged_in:
        st.subheader("Funnel SLA Planner")
        st.button("Log in", on_click=_oidc_log_in, type="primary", icon=":material/login:")
        st.stop()
    role = role_for_email(st.user.get("email"), access, st.user.get("email_verified"))
    if role is None:
        st.error(f"{escape_markdown(st.user.get('email') or 'This account')} is not on the list of people who "
                 "may open this planner (with an e-mail address the sign-in has verified). Ask an editor to "
                 "add you.", icon=":material/block:")
        st.button("Log out", on_click=_oidc_log_out)
        st.stop()
    return role


def current_role() -> str | None:
    """This session's role now (None: not signed in), checked as on every write."""
    mode, access = settings()
    if mode == OPEN:
        return EDITOR
    if mode == PASSWORD:
        return _session_role(quiet=True)
    if not st.user.is_logged_in:
        return None
    return role_for_email(st.user.get("email"), access, st.user.get("email_verified"))


def can_edit() -> bool:
    """May this session change stored data (import, undo, save plans)?"""
    return current_role() == EDITOR


def account_bar(role: str) -> None:
    """Who is signed in, as what, and a way out (nothing when the app is open)."""
    mode, _ = settings()
    if mode == OPEN:
        return
    who = escape_markdown(st.user.get("email")) if mode == OIDC and st.user.get("email") else None
    with st.container(horizontal=True, horizontal_alignment="right", vertical_alignment="center"):
        st.caption(("Signed in as " + who + " · " if who else "")
                   + ("editor" if role == EDITOR else "viewer (read-only)"), width="content")
        st.button("Log out", key="access-logout", on_click=_oidc_log_out if mode == OIDC else _log_out,
                  type="tertiary", width="content")


def read_only_note(what: str) -> None:
    st.info(f"Read-only access: only editors can {what}.", icon=":material/lock:")
