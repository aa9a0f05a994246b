"""SOAP charge point simulator: N OCPP 1.5/1.6 stations in one process (``soapgw simulate``).

station.py is one charge point's state machine (pure Python), commands.py its answers to every
ChargePointService operation, central_client.py what it sends to the central system,
service.py its ChargePointService over HTTP, runner.py the process running them all.
The names below are imported on first use, so ``soapgw --help`` does not load spyne.
"""
from __future__ import annotations

import importlib

_EXPORTS = {"Simulation": "runner", "SimulationConfig": "runner", "start_simulation": "runner",
            "Station": "station", "StationOptions": "model"}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
