"""`zoo ui` stops everything it started: SIGTERM leaves no server serving the port."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self"),
                                reason="reads the process tree from /proc")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def alive(pid):
    """Running, not a zombie waiting for its exit to be collected."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def descendants(pid):
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (FileNotFoundError, ProcessLookupError):
                continue
            children.setdefault(parent, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def port_answers(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


@pytest.mark.slow
def test_sigterm_stops_the_ui_its_server_and_workers(tmp_path):
    port = free_port()
    log_path = tmp_path / "ui.log"
    with open(log_path, "w") as log:
        ui = subprocess.Popen([sys.executable, "-m", "zoo", "ui", "--port", str(port),
                               "--tracking-uri", f"sqlite:///{tmp_path}/mlflow.db"],
                              cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
    started = []
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        # About 20 s on an idle 2-core machine (web workers start); room for a busy one.
        deadline = time.monotonic() + 120
        while True:
            assert ui.poll() is None, log_path.read_text()
            try:
                with opener.open(f"http://127.0.0.1:{port}/health", timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.5)
        started = descendants(ui.pid)
        assert started, "zoo ui started no server process"

        ui.send_signal(signal.SIGTERM)
        assert ui.wait(timeout=60) == 0, log_path.read_text()

        survivors = [pid for pid in started if alive(pid)]
        assert survivors == [], f"still running after SIGTERM: {survivors}"
        assert not port_answers(port), f"port {port} still answers after SIGTERM"
    finally:
        if ui.poll() is None:
            ui.kill()
        for pid in started:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
