"""Two fixes to spyne 2.14: importable on Python 3.12+, and no reference cycle per event.

spyne vendors six 1.14, whose import hook relies on ``find_module`` (gone in 3.12), so
``spyne.util.six.moves`` cannot be imported. Upstream six (>= 1.16) implements ``find_spec``
and carries the same API; spyne's own additions are ``get_function_name`` (added here) and
``splittype``/``splithost``, which spyne takes straight from ``urllib.parse`` on Python 3.
On 3.13 spyne also needs the ``cgi`` module, provided by the ``legacy-cgi`` distribution.
This module must be imported before spyne: ``soapgw/__init__.py`` does so.

``EventManager.fire_event`` builds an empty ordered set (a ring of self-referencing lists)
as the default of a ``dict.get`` on every event, handlers or not: several per request, all
left for the cyclic garbage collector, whose pauses were the tail latency of a busy worker.
"""
from __future__ import annotations

import importlib
import operator
import sys
import types

# Every ``spyne.util.six.moves.X`` that spyne 2.14 imports.
_MOVES = ("urllib", "urllib.parse", "urllib.request", "urllib.error", "http_cookies",
          "collections_abc")


def install() -> None:
    """Alias spyne's vendored six to upstream six; a no-op before Python 3.12."""
    if sys.version_info < (3, 12) or "spyne.util.six" in sys.modules:
        return
    import six

    vendored = types.ModuleType("spyne.util.six", six.__doc__)
    vendored.__dict__.update({k: v for k, v in six.__dict__.items() if not k.startswith("__")})
    vendored.get_function_name = operator.attrgetter("__name__")
    vendored.__path__ = []  # a package, so that "spyne.util.six.moves" resolves below it
    sys.modules["spyne.util.six"] = vendored
    sys.modules["spyne.util.six.moves"] = six.moves
    for name in _MOVES:
        sys.modules[f"spyne.util.six.moves.{name}"] = importlib.import_module(f"six.moves.{name}")


def _fire_event(self, event_name, ctx, *args, **kwargs):
    """spyne's EventManager.fire_event, without building a throwaway ordered set."""
    for handler in self.handlers.get(event_name, ()):
        handler(ctx, *args, **kwargs)


def quiet_events() -> None:
    """Replace spyne's EventManager.fire_event (see the module's docstring)."""
    from spyne.evmgr import EventManager
    EventManager.fire_event = _fire_event


install()
quiet_events()
