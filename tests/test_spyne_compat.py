"""spyne 2.14 imports and serves on every supported Python (3.12+ through soapgw.spyne_compat)."""
import sys

import pytest


@pytest.mark.smoke
def test_spyne_imports_and_builds_an_ocpp_service():
    import soapgw  # noqa: F401  (installs the shim before spyne)
    from spyne.util.six.moves.collections_abc import Sequence  # noqa: F401
    from spyne.util.six.moves.urllib.parse import unquote

    from soapgw.soap.schema import cs16
    from soapgw.soap.spyne_service import SpyneRunner

    assert unquote("a%20b") == "a b"
    runner = SpyneRunner(cs16.SERVICE)
    assert runner.service.by_name["Heartbeat"].request_element == "heartbeatRequest"
    six_module = sys.modules["spyne.util.six"]
    if sys.version_info >= (3, 12):
        assert six_module.get_function_name(test_spyne_imports_and_builds_an_ocpp_service) == \
            "test_spyne_imports_and_builds_an_ocpp_service"
