"""SIGUSR1 makes the server write every thread's stack into its log (ui.thread_dumps)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# A process with a thread waiting in a function of a known name; it installs the dump (twice:
# once per process), says so, and waits for the signal; then it must still be running.
_PROBE = r"""
import sys, threading, time
sys.path.insert(0, sys.argv[1])
from ui import thread_dumps
assert thread_dumps.install() and thread_dumps.install()
stop = threading.Event()
def waiting_for_the_signal():
    stop.wait(60)
threading.Thread(target=waiting_for_the_signal, name="probe").start()
print("ready", flush=True)
sys.stdin.readline()              # the test has sent the signal and looked at stderr
print("still running", flush=True)
stop.set()
"""


@pytest.mark.skipif(not hasattr(signal, "SIGUSR1"), reason="no SIGUSR1 on this platform")
def test_the_signal_dumps_every_thread_and_the_process_goes_on(tmp_path):
    log = tmp_path / "server.log"
    with open(log, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-c", _PROBE, str(REPO)], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=err, text=True)
        try:
            assert proc.stdout.readline().strip() == "ready"
            proc.send_signal(signal.SIGUSR1)
            for _ in range(100):                     # the dump is written by the signal handler
                if "waiting_for_the_signal" in log.read_text():
                    break
                time.sleep(0.05)
            proc.stdin.write("\n")
            proc.stdin.flush()
            assert proc.stdout.readline().strip() == "still running"
            assert proc.wait(timeout=30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
    dump = log.read_text()
    assert "waiting_for_the_signal" in dump          # the other thread's stack
    assert dump.count("Thread 0x") + dump.count("Current thread 0x") >= 2   # all threads, not one
