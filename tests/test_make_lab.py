"""`make lab`, the README's first command, starts JupyterLab on the lessons, as root too."""
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_lab_serves_the_lessons_and_prints_the_url(tmp_path):
    port, token = free_port(), "bk-make-lab-test"
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path / "config"), JUPYTER_DATA_DIR=str(tmp_path / "data"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), BROWSER="true")
    log = tmp_path / "lab.log"
    with open(log, "w") as out:
        # the very command the README gives; LAB_ARGS only fixes the port and token and keeps a browser shut
        lab = subprocess.Popen(["make", "lab", f"LAB_ARGS=--no-browser --ip=127.0.0.1 --port={port} "
                                f"--ServerApp.token={token} --ServerApp.port_retries=0"],
                               cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        status = f"http://127.0.0.1:{port}/api/status?token={token}"
        # as root, JupyterLab stops at once without --allow-root: answering at all is the check there
        while not answers(status):
            assert lab.poll() is None, f"make lab stopped (exit {lab.returncode}):\n{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"JupyterLab did not answer in 120 s:\n{log.read_text()[-3000:]}"
            time.sleep(0.5)
        assert answers(f"http://127.0.0.1:{port}/api/contents/00_start_here.ipynb?token={token}"), \
            "the server does not serve the lessons folder"
        printed = log.read_text()
        # the URL to open (a token given on the command line is shown as "token=...")
        assert f"http://127.0.0.1:{port}/lab?token=" in printed, printed[-3000:]
    finally:
        os.killpg(lab.pid, signal.SIGTERM)          # make, backprop-kit lab and jupyter lab: one group
        try:
            lab.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(lab.pid, signal.SIGKILL)
            lab.wait()
    assert not answers(f"http://127.0.0.1:{port}/api/status?token={token}"), "the server outlived its PID"
