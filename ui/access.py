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
"""

from __future__ import annotations

import hmac
import time

import streamlit as st

VIEWER, EDITOR = "viewer", "editor"
OPEN, PASSWORD, OIDC = "open", "password", "oidc"
ROLE = "access-role"            # session: the role granted by the password form
WRONG_PASSWORD_DELAY = 1.0      # seconds: slows down guessing


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


def role_for_email(email: str | None, access: dict) -> str | None:
    if not email:
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


def _check_password() -> None:
    _, access = settings()
    role = role_for_password(st.session_state.get("access-password", ""), access)
    st.session_state["access-password"] = ""
    if role is None:
        time.sleep(WRONG_PASSWORD_DELAY)
        st.session_state["access-wrong"] = True
    else:
        st.session_state[ROLE] = role
        st.session_state.pop("access-wrong", None)


def _log_out() -> None:
    st.session_state.pop(ROLE, None)


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
        role = st.session_state.get(ROLE)
        if role:
            return role
        with st.columns([2, 3])[0]:
            st.subheader("Funnel SLA Planner")
            with st.form("access-login", border=True):
                st.text_input("Password", type="password", key="access-password")
                st.form_submit_button("Enter", on_click=_check_password, type="primary")
            if st.session_state.get("access-wrong"):
                st.error("Wrong password.", icon=":material/lock:")
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
    role = role_for_email(st.user.get("email"), access)
    if role is None:
        st.error(f"{st.user.get('email') or 'This account'} is not on the list of people who may open this "
                 "planner. Ask an editor to add you.", icon=":material/block:")
        st.button("Log out", on_click=_oidc_log_out)
        st.stop()
    return role


def can_edit() -> bool:
    """May this session change stored data (import, undo, save plans)?"""
    mode, access = settings()
    if mode == OPEN:
        return True
    if mode == PASSWORD:
        return st.session_state.get(ROLE) == EDITOR
    return bool(st.user.is_logged_in) and role_for_email(st.user.get("email"), access) == EDITOR


def account_bar(role: str) -> None:
    """Who is signed in, as what, and a way out (nothing when the app is open)."""
    mode, _ = settings()
    if mode == OPEN:
        return
    who = st.user.get("email") if mode == OIDC else None
    with st.container(horizontal=True, horizontal_alignment="right", vertical_alignment="center"):
        st.caption(("Signed in as " + who + " · " if who else "")
                   + ("editor" if role == EDITOR else "viewer (read-only)"), width="content")
        st.button("Log out", key="access-logout", on_click=_oidc_log_out if mode == OIDC else _log_out,
                  type="tertiary", width="content")


def read_only_note(what: str) -> None:
    st.info(f"Read-only access: only editors can {what}.", icon=":material/lock:")
