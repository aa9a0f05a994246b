"""What an operator tells about a charge point besides OCPP: description, postal address,
coordinates, time zone, its own web page (admin address). The rules (checked before
anything is written, for every edge): latitude -90..90 and longitude -180..180, given together;
a time zone the IANA database knows; an http(s) admin address."""
from __future__ import annotations

from dataclasses import dataclass, fields
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from soapgw.core.errors import Invalid

# column -> longest value it takes
TEXT_LIMITS = {"description": 4000, "street": 255, "house_number": 20, "postal_code": 20,
               "city": 100, "country": 100, "time_zone": 64, "admin_address": 2048}


@dataclass
class StationDetails:
    description: str | None = None
    street: str | None = None
    house_number: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    time_zone: str | None = None
    admin_address: str | None = None

    def columns(self) -> dict:
        """The checked column values (empty text: None); raises Invalid."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        problems = {}
        for name, limit in TEXT_LIMITS.items():
            text = (values[name] or "").strip() or None
            values[name] = text
            if text is not None and len(text) > limit:
                problems[name] = f"at most {limit} characters"
        for name, bound in (("latitude", 90), ("longitude", 180)):
            if values[name] is not None and not -bound <= values[name] <= bound:
                problems[name] = f"use -{bound} to {bound} (decimal degrees)"
        if (values["latitude"] is None) != (values["longitude"] is None):
            missing = "longitude" if values["longitude"] is None else "latitude"
            problems.setdefault(missing, "give the latitude and the longitude together")
        if values["time_zone"] and "time_zone" not in problems and \
                (problem := time_zone_problem(values["time_zone"])):
            problems["time_zone"] = problem
        if values["admin_address"] and "admin_address" not in problems and \
                (problem := web_address_problem(values["admin_address"])):
            problems["admin_address"] = problem
        if problems:
            raise Invalid(problems)
        return values


def time_zone_problem(name: str) -> str | None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return f"{name!r} is not a time zone name (e.g. Europe/Berlin, America/New_York, UTC)"
    return None


def web_address_problem(value: str) -> str | None:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError:
        return "not a URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "use an http:// or https:// URL with a host, e.g. http://192.0.2.10/"
    return None


def map_link(latitude: float | None, longitude: float | None) -> str | None:
    """A plain link that opens the coordinates on OpenStreetMap (nothing is embedded)."""
    if latitude is None or longitude is None:
        return None
    query = urlencode({"mlat": f"{latitude:.6f}", "mlon": f"{longitude:.6f}"})
    return f"https://www.openstreetmap.org/?{query}#map=17/{latitude:.6f}/{longitude:.6f}"
