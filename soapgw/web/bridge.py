"""The OCPP-J upstream bridge as operators see it: every station's link (connected since /
down since, queue, last error) and starts the upstream central system refused. The charge
point pages show the same state through the ``upstream_links`` template function."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template

from soapgw.core import upstream, upstream_queue
from soapgw.web.db import db

bp = Blueprint("bridge", __name__, url_prefix="/bridge")


def upstream_links(charge_box_ids) -> dict:
    """chargeBoxId -> core.upstream.LinkView, for the charge point list and page."""
    ids = list(charge_box_ids)
    if not ids:
        return {}
    return {view.charge_box_id: view for view in upstream.link_views(db(), ids)}


@bp.record_once
def _template_function(state) -> None:
    state.app.add_template_global(upstream_links)


@bp.get("/")
def index():
    views = upstream.link_views(db())
    settings = current_app.config["SOAPGW_SETTINGS"]
    counts = {"stations": len(views), "bridged": sum(v.enabled for v in views),
              "connected": sum(v.connected for v in views),
              "queued": sum(v.queue for v in views),
              "errors": sum(1 for v in views if v.enabled and v.last_error)}
    return render_template("bridge/index.html", views=views, counts=counts,
                           default_url=settings.upstream_url,
                           refused=upstream_queue.refused_starts(db()), section="bridge")
