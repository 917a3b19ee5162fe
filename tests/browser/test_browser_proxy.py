"""The README's reverse proxy, for real: nginx with the hosting section's own two blocks
(tests/browser/proxy.py) in front of the app. A shared link opened through it shows the
library's numbers; the page shells, the icon, the static files and the page-address probes are
answered by nginx from Streamlit's package folder, never by the app (a proxy whose app is down
still serves them); the WebSocket and the health check reach the app. Screenshot:
test-artifacts/screenshots/proxy-summary.png.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from dataclasses import replace

import pytest

from sim import simulate
from sim.model.scenario_io import load_scenario

from .driver import ARTIFACTS, exceptions, full_screenshot, open_app, probability_text
from .proxy import NGINX, ReverseProxy
from .server import ROOT, free_port

pytestmark = pytest.mark.skipif(not NGINX.exists(), reason=f"{NGINX} is missing: install Debian's nginx package "
                                                           "(`make test` does: apt-get install -y nginx)")
PROBABILITY = "Chance of hitting the goal"


def status(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def request_lines(proxy: ReverseProxy) -> list[tuple[str, int]]:
    """(path without the query, status) of each request nginx logged."""
    found = re.findall(r'"GET ([^ ?]+)\S* HTTP/1\.1" (\d{3})', "\n".join(proxy.access_log()))
    return [(path, int(code)) for path, code in found]


def test_a_shared_link_opens_through_the_readme_nginx(server, page):
    scenario = replace(load_scenario(ROOT / "data" / "scenarios" / "demo.json"), seed=31_337)
    with ReverseProxy(server.url) as proxy:
        open_app(page, f"{proxy.url}/summary?s={scenario.to_url_token()}&q=0.8", expect_text=PROBABILITY)
        assert probability_text(page) == f"{simulate(scenario).p_goal:.1%}"
        assert exceptions(page) == []
        full_screenshot(page, ARTIFACTS / "screenshots" / "proxy-summary.png")
        seen = request_lines(proxy)
    assert ("/summary", 200) in seen
    assert ("/summary/_stcore/health", 404) in seen and ("/_stcore/health", 200) in seen


def test_the_proxy_answers_shells_icon_static_files_and_probes_without_the_app():
    with ReverseProxy(f"http://127.0.0.1:{free_port()}") as proxy:      # nothing listens there
        for path in ("/", "/summary?s=anything", "/plan", "/checkin"):
            code, body = status(proxy.url + path)
            assert code == 200 and b"<div id=\"root\">" in body, path
        script = re.search(rb'src="\./(static/js/[^"]+\.js)"', status(proxy.url + "/summary")[1])
        assert script, "no script named in Streamlit's index.html"
        assert status(f"{proxy.url}/{script.group(1).decode()}")[0] == 200
        assert status(proxy.url + "/favicon.png")[0] == 200
        assert status(proxy.url + "/summary/_stcore/health")[0] == 404
        assert status(proxy.url + "/summary/_stcore/host-config")[0] == 404
        # What must reach the app does: with no app, nginx says so.
        assert status(proxy.url + "/_stcore/health")[0] == 502
        assert status(proxy.url + "/_stcore/host-config")[0] == 502
