"""Starting a command from a page: the Gateway's task runner, after ending the request's own
database transaction (on SQLite it holds the write lock the runner's transaction would wait
for in vain)."""
from __future__ import annotations

from flask import current_app, g

from soapgw.core.enums import TaskOrigin
from soapgw.web.db import db


def submit_task(operation: str, payload: dict, charge_box_ids: list[str]) -> int:
    """The new task's id; TaskError when the runner refuses the command."""
    caller = g.user.username  # read before the rollback expires the user
    db().rollback()
    return current_app.extensions["soapgw_task_runner"].submit(
        operation, payload, charge_box_ids, origin=TaskOrigin.web, caller=caller)
