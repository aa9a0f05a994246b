"""The Dockerfile's command, with its environment, serves the gateway (no Docker engine here).

The image itself cannot be built on our machines; this runs what the image runs: the CMD with
the ENV settings, from the installed package, with the data folder in a temporary directory.
"""
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from conftest import ROOT, free_port

pytestmark = pytest.mark.slow


def dockerfile_env_and_cmd():
    text = (ROOT / "Dockerfile").read_text()
    env_block = re.search(r"^ENV (.+?)(?=\n\S)", text, re.S | re.M).group(1)
    env = dict(item.split("=", 1) for item in shlex.split(env_block.replace("\\\n", " ")))
    cmd = json.loads(re.search(r"^CMD (\[.+\])$", text, re.M).group(1))
    return env, cmd


def test_dockerfile_command_serves_with_its_environment(tmp_path):
    env, cmd = dockerfile_env_and_cmd()
    assert cmd[:2] == ["soapgw", "serve"]
    data = tmp_path / "var-lib-soapgw"
    env = {k: v.replace("/var/lib/soapgw", str(data)) for k, v in env.items()}
    port = str(free_port())
    cmd = [str(Path(sys.executable).with_name("soapgw"))] + [
        port if part == "8080" else part for part in cmd[1:]]
    inherited = {k: v for k, v in os.environ.items() if k in ("PATH", "PYTHONPATH")}
    process = subprocess.Popen(cmd, env={**inherited, **env},
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        for _ in range(300):
            try:
                if requests.get(f"http://127.0.0.1:{port}/health", timeout=1).ok:
                    break
            except requests.RequestException:  # not listening yet, or its UI worker boots
                time.sleep(0.1)
        wsdl = requests.get(f"http://127.0.0.1:{port}/services/CentralSystemService?wsdl",
                            timeout=5)
        assert wsdl.status_code == 200
        assert (data / "soapgw.db").exists()
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output.decode()
