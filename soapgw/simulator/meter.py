"""The simulated energy meter: the EV draws whatever the station offers (the limit in force)."""
from __future__ import annotations

from datetime import datetime

from soapgw.simulator.model import Connector
from soapgw.simulator.profiles import DEFAULT_PHASES, VOLTAGE

BATTERY_WH = 60000  # the simulated EV's battery, for SoC
START_SOC = 20


def advance(connector: Connector, now: datetime, offered_w: float) -> None:
    """Integrate energy since the last reading at the power drawn so far, then take the
    power offered from now on (so a new limit only counts from the moment it applies)."""
    if connector.metered_at is not None and connector.transaction is not None:
        hours = max(0.0, (now - connector.metered_at).total_seconds()) / 3600
        connector.meter_wh += connector.power_w * hours
    connector.metered_at = now
    connector.power_w = offered_w if (connector.transaction is not None
                                      and connector.transaction.transaction_id is not None) else 0.0


def sampled_values(connector: Connector, measurands: list[str], context: str,
                   offered_w: float) -> list[dict]:
    """SampledValue dicts (1.6 names) for the requested measurands this meter knows."""
    amps = connector.power_w / (VOLTAGE * DEFAULT_PHASES)
    session_wh = 0.0
    if connector.transaction is not None:
        session_wh = connector.meter_wh - connector.transaction.meter_start
    readings = {
        "Energy.Active.Import.Register": (f"{int(connector.meter_wh)}", "Wh", "Outlet"),
        "Power.Active.Import": (f"{connector.power_w:.0f}", "W", "Outlet"),
        "Current.Import": (f"{amps:.1f}", "A", "Outlet"),
        "Voltage": (f"{VOLTAGE}", "V", "Outlet"),
        "Power.Offered": (f"{offered_w:.0f}", "W", "Outlet"),
        "Current.Offered": (f"{offered_w / (VOLTAGE * DEFAULT_PHASES):.1f}", "A", "Outlet"),
        "SoC": (f"{min(100, START_SOC + int(session_wh * 100 / BATTERY_WH))}", "Percent", "EV"),
    }
    values = []
    for measurand in measurands:
        if measurand in readings:
            value, unit, location = readings[measurand]
            values.append({"value": value, "context": context, "format": "Raw",
                           "measurand": measurand, "location": location, "unit": unit})
    return values


def register_reading(wh: float, at: datetime, context: str) -> dict:
    """One MeterValue with just the energy register (transactionData begin/end)."""
    return {"timestamp": at, "sampledValue": [{
        "value": f"{int(wh)}", "context": context, "format": "Raw",
        "measurand": "Energy.Active.Import.Register", "location": "Outlet", "unit": "Wh"}]}
