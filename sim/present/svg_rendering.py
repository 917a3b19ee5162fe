"""Vega-Lite specs drawn as SVG by ``vl-convert``, in a worker process of their own.

``vl-convert`` is Rust: when it panics (it did on a control character in chart text:
``Failed to parse text SVG: NonXmlChar``) the panic cannot unwind and the whole process
aborts. The app's server must never be that process, so the charts of the report are drawn in
a separate Python process (``python -m sim.present.svg_rendering``), started at the first
report and kept for the next ones; if it dies, the report is made without its charts
(:class:`ChartRenderingError`) and the next report starts a new worker. Every string of a
spec is also cleaned of control and invisible characters before it leaves
(:func:`xml_safe_spec`), so the known panic cannot even be triggered.

Protocol: one JSON line per request on the worker's stdin (``{"spec": ..., "vl_version":
...}``), one JSON line per answer on its stdout (``{"svg": ...}`` or ``{"error": ...}``).
"""

from __future__ import annotations

import json
import select
import subprocess
import sys
import threading

from ..model.names import printable

#: Seconds a chart may take before the worker is considered hung (and replaced).
RENDER_TIMEOUT = 60.0


class ChartRenderingError(RuntimeError):
    """A chart could not be drawn (the worker failed, died or hung); the process is fine."""


def xml_safe_spec(value):
    """``value`` (a Vega-Lite spec, any JSON value) with every string cleaned of control and
    invisible characters (:func:`sim.model.names.printable`): chart text the SVG renderer can
    always parse."""
    if isinstance(value, str):
        return printable(value).replace("\t", " ")
    if isinstance(value, dict):
        return {xml_safe_spec(k): xml_safe_spec(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [xml_safe_spec(v) for v in value]
    return value


class _Worker:
    """The one worker process of this process, started on demand, replaced when it dies."""

    def __init__(self):
        self.lock = threading.Lock()
        self.proc: subprocess.Popen | None = None

    def _start(self) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", __name__], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                encoding="utf-8", bufsize=1)

    def _stop(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()
            self.proc = None

    def render(self, spec: dict, vl_version: str | None, timeout: float) -> str:
        request = json.dumps({"spec": xml_safe_spec(spec), "vl_version": vl_version}, ensure_ascii=True)
        with self.lock:
            if self.proc is None or self.proc.poll() is not None:
                self._stop()
                self.proc = self._start()
            try:
                self.proc.stdin.write(request + "\n")
                self.proc.stdin.flush()
                ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
                line = self.proc.stdout.readline() if ready else ""
            except OSError:
                line = ""
            if not line:
                self._stop()
                raise ChartRenderingError("the chart renderer stopped (or took too long) drawing this chart")
        answer = json.loads(line)
        if "error" in answer:
            raise ChartRenderingError(answer["error"])
        return answer["svg"]


_WORKER = _Worker()


def vegalite_to_svg(spec: dict, vl_version: str | None = None, timeout: float = RENDER_TIMEOUT) -> str:
    """The SVG text of a Vega-Lite ``spec`` (a dict), drawn in the worker process; raises
    :class:`ChartRenderingError` when it cannot be drawn."""
    return _WORKER.render(spec, vl_version, timeout)


def _serve() -> None:
    """The worker: answer each request line until stdin closes."""
    import vl_convert as vlc
    for line in sys.stdin:
        try:
            request = json.loads(line)
            svg = vlc.vegalite_to_svg(request["spec"], vl_version=request["vl_version"], allowed_base_urls=[])
            answer = {"svg": svg}
        except Exception as exc:  # noqa: BLE001 - any failure of one chart is that chart's: say it
            answer = {"error": f"the chart cannot be drawn: {str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__}"}
        sys.stdout.write(json.dumps(answer, ensure_ascii=True) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    _serve()
