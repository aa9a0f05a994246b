"""SQL shared by several pages: a connector's current status, runtime settings."""
from __future__ import annotations

from flask import current_app
from sqlalchemy import ScalarSelect, select
from sqlalchemy.orm import Session

from soapgw.core.runtime_settings import RuntimeSettings
from soapgw.store.models import Connector, ConnectorStatus


def latest_status_id() -> ScalarSelect:
    """Correlated subquery: the id of ``Connector``'s latest status row.

    One index seek per connector on ix_connector_status_latest (connector_pk,
    status_timestamp): fast however long the append-only log grows.
    """
    return (select(ConnectorStatus.id)
            .where(ConnectorStatus.connector_pk == Connector.id)
            .order_by(ConnectorStatus.status_timestamp.desc(), ConnectorStatus.id.desc())
            .limit(1).correlate(Connector).scalar_subquery())


def runtime_settings(db: Session) -> RuntimeSettings:
    return RuntimeSettings.load(db, current_app.config["SOAPGW_SETTINGS"])
