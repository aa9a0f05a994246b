"""schemathesis against the OpenAPI document that a real ``soapgw serve`` serves: generated
requests for every operation (bounded examples), then stateful runs along the links
schemathesis infers; no 500, every answer matching the document (status, content type,
headers, schema)."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from conftest import command_env, free_port, soapgw_command

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served_api(tmp_path_factory):
    """``soapgw serve`` with an admin token made by ``soapgw token create``."""
    import subprocess
    import sys
    import time
    from pathlib import Path

    import requests
    tmp = tmp_path_factory.mktemp("schemathesis")
    url = f"sqlite:///{tmp / 'soapgw.db'}"
    env = command_env(url, SOAPGW_INSTANCE_PATH=str(tmp / "instance"),
                      SOAPGW_STREAM_PORT=str(free_port()))
    created = soapgw_command("token", "create", "schemathesis", "--scope", "admin", env=env)
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    soapgw_command("chargebox", "add", "CP-1", "CP-2", env=env)
    soapgw_command("tag", "add", "TAG-1", env=env)
    port = free_port()
    log = open(tmp / "serve.log", "w")
    process = subprocess.Popen([str(Path(sys.executable).with_name("soapgw")), "serve",
                                "--port", str(port), "--workers", "2"], env=env,
                               stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if requests.get(f"{base}/health", timeout=1).status_code == 200:
                break
        except requests.RequestException:
            time.sleep(0.1)
    yield base, token
    process.terminate()
    process.wait(timeout=20)
    text = (tmp / "serve.log").read_text()
    assert "Traceback" not in text, text[-3000:]


@pytest.fixture(scope="module")
def api_schema(served_api):
    base, token = served_api
    # Schema-valid input may still be refused by the domain's rules (a parent tag that does
    # not exist, a webhook URL that may not be called, a reservation no longer active): 422.
    config = schemathesis.config.SchemathesisConfig.from_dict({"checks": {
        "positive_data_acceptance": {"expected-statuses": ["2xx", "3xx", "401", "403", "404",
                                                           "409", "422"]}}})
    schema = schemathesis.openapi.from_url(f"{base}/api/v1/openapi.json", config=config)
    schema.config.base_url = base
    return schema


def test_every_operation_conforms(api_schema, served_api):
    # (one test over the operations: schemathesis' pytest loader does not support pytest 9)
    base, token = served_api
    failures = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 30
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=12, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case):
            case.call_and_validate(base_url=base, timeout=30,
                                   headers={"Authorization": f"Bearer {token}"})
        try:
            check()
        except KeyboardInterrupt:
            raise
        except BaseException as failure:  # noqa: BLE001  (report every operation's failure)
            failures.append(f"{operation.label}: {failure}")
    assert not failures, "\n\n".join(failures)


def test_stateful_links(api_schema, served_api):
    base, token = served_api
    machine = api_schema.as_state_machine()

    class Machine(machine):
        def get_call_kwargs(self, case):
            return {"base_url": base, "headers": {"Authorization": f"Bearer {token}"},
                    "timeout": 30}

    Machine.run(settings=settings(max_examples=15, stateful_step_count=6, deadline=None,
                                  derandomize=True, suppress_health_check=list(HealthCheck)))
