"""Run-time settings (``core.runtime_settings``): read, and change (admin)."""
from __future__ import annotations

from spectree import Response

from soapgw.api.db import db
from soapgw.api.present import settings as defaults
from soapgw.api.problems import invalid
from soapgw.api.routing import route
from soapgw.api.schemas import Settings, SettingsUpdate
from soapgw.core.errors import Invalid
from soapgw.core.runtime_settings import RuntimeSettings

TAG = "settings"
NAMES = {"heartbeat_interval": "heartbeatInterval", "auto_register": "autoRegister",
         "journal_retention_days": "journalRetentionDays",
         "event_retention_days": "eventRetentionDays", "connect_timeout": "connectTimeout",
         "operation_timeout": "operationTimeout"}
KEYS = {api: key for key, api in NAMES.items()}


def view() -> dict:
    current = RuntimeSettings.load(db(), defaults())
    return {api: getattr(current, key) for key, api in NAMES.items()}


@route("GET", "/settings", tag=TAG, resp=Response(HTTP_200=Settings))
def get_settings():
    """The settings in force (stored ones, else the environment's)."""
    return view()


@route("PATCH", "/settings", scope="admin", tag=TAG, json=SettingsUpdate,
       resp=Response(HTTP_200=Settings, HTTP_422=None))
def update_settings(json: SettingsUpdate):
    """Change some settings; the others stay. The timeouts apply to commands started from
    now on, the heartbeat interval at each station's next BootNotification."""
    values = {KEYS[name]: value for name, value in json.model_dump(exclude_unset=True).items()}
    try:
        RuntimeSettings.save(db(), values)
    except Invalid as error:
        raise invalid({NAMES.get(k, k): v for k, v in error.problems.items()}) from None
    db().commit()
    return view()
