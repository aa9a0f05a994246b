"""What the HTTP benchmarks of the inbound path share (benchmarks/inbound.py and
benchmarks/throughput.py): station messages as a station sends them, the raw baseline WSGI app,
registering stations and tags, a gunicorn server in a subprocess on 127.0.0.1 (``soapgw serve``
of this checkout or of another one, or the baseline app under the same gunicorn settings), CPU
accounting, and wrk with a Lua script per scenario (Heartbeat; a session of eight messages
per client). A library only: the scripts that use it have the command lines.
"""
from __future__ import annotations

import atexit
import contextlib
import http.client
import json
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from lxml import etree  # noqa: E402

from soapgw.soap.envelope import _PARSER  # noqa: E402  (the gateway's safe parser)
from soapgw.server import THREADS  # noqa: E402  (soapgw serve's threads per worker)

SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
WSA = "http://www.w3.org/2005/08/addressing"
CS16 = "urn://Ocpp/Cs/2015/10/"
SERVICE_PATH = "/services/CentralSystemService"
CONTENT_TYPE = "application/soap+xml; charset=utf-8"
SESSION = ("BootNotification", "StatusNotification", "Authorize", "StartTransaction",
           "MeterValues", "MeterValues", "MeterValues", "StopTransaction")

# --- messages --------------------------------------------------------------------------------
def utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def element_name(operation: str) -> str:
    return operation[0].lower() + operation[1:]


def envelope(identity: str, operation: str, body: str, message_id: str) -> bytes:
    """A request as a station sends it: chargeBoxIdentity, WS-A MessageID/Action/From/To.
    wsa:From names the host the request comes from (127.0.0.1), as a directly connected
    station does: its callback address is accepted and no quirk is recorded."""
    return (f'<s:Envelope xmlns:s="{SOAP12}" xmlns:a="{WSA}" xmlns:cs="{CS16}"><s:Header>'
            f"<cs:chargeBoxIdentity>{identity}</cs:chargeBoxIdentity>"
            f"<a:MessageID>{message_id}</a:MessageID><a:Action>/{operation}</a:Action>"
            f"<a:From><a:Address>http://127.0.0.1:9/ocpp</a:Address></a:From>"
            f"<a:To>http://127.0.0.1{SERVICE_PATH}</a:To></s:Header>"
            f"<s:Body>{body}</s:Body></s:Envelope>").encode()


def sampled_values(timestamp: str, energy: int) -> str:
    samples = ((str(energy), "Energy.Active.Import.Register", "Wh", None),
               ("7360", "Power.Active.Import", "W", None), ("32.0", "Current.Import", "A", "L1"),
               ("230.1", "Voltage", "V", "L1"), ("54", "SoC", "Percent", None))
    parts = [f"<cs:meterValue><cs:timestamp>{timestamp}</cs:timestamp>"]
    for value, measurand, unit, phase in samples:
        parts.append(f"<cs:sampledValue><cs:value>{value}</cs:value>"
                     "<cs:context>Sample.Periodic</cs:context><cs:format>Raw</cs:format>"
                     f"<cs:measurand>{measurand}</cs:measurand>"
                     + (f"<cs:phase>{phase}</cs:phase>" if phase else "")
                     + f"<cs:location>Outlet</cs:location><cs:unit>{unit}</cs:unit>"
                     "</cs:sampledValue>")
    parts.append("</cs:meterValue>")
    return "".join(parts)


def body(operation: str, *, tag: str = "BT0000", transaction_id: int = 0, meter: int = 0,
         timestamp: str | None = None, status: str = "Available") -> str:
    """The Body child of ``operation`` (prefix ``cs``)."""
    ts = timestamp or utc_now()
    inner = {
        "Authorize": f"<cs:idTag>{tag}</cs:idTag>",
        "BootNotification": ("<cs:chargePointVendor>Bench</cs:chargePointVendor>"
                             "<cs:chargePointModel>B-22</cs:chargePointModel>"
                             "<cs:chargePointSerialNumber>SN-0001</cs:chargePointSerialNumber>"
                             "<cs:firmwareVersion>1.4.2</cs:firmwareVersion>"
                             "<cs:meterType>DZG</cs:meterType>"),
        "DataTransfer": ("<cs:vendorId>com.example.bench</cs:vendorId>"
                         "<cs:messageId>Ping</cs:messageId><cs:data>{\"n\":1}</cs:data>"),
        "DiagnosticsStatusNotification": "<cs:status>Uploaded</cs:status>",
        "FirmwareStatusNotification": "<cs:status>Installed</cs:status>",
        "Heartbeat": "",
        "MeterValues": (f"<cs:connectorId>1</cs:connectorId>"
                        f"<cs:transactionId>{transaction_id}</cs:transactionId>"
                        + sampled_values(ts, meter)),
        "StartTransaction": (f"<cs:connectorId>1</cs:connectorId><cs:idTag>{tag}</cs:idTag>"
                             f"<cs:timestamp>{ts}</cs:timestamp>"
                             f"<cs:meterStart>{meter}</cs:meterStart>"),
        "StatusNotification": (f"<cs:connectorId>1</cs:connectorId><cs:status>{status}</cs:status>"
                               f"<cs:errorCode>NoError</cs:errorCode>"
                               f"<cs:timestamp>{ts}</cs:timestamp>"),
        "StopTransaction": (f"<cs:transactionId>{transaction_id}</cs:transactionId>"
                            f"<cs:idTag>{tag}</cs:idTag><cs:timestamp>{ts}</cs:timestamp>"
                            f"<cs:meterStop>{meter}</cs:meterStop><cs:reason>Local</cs:reason>"),
    }[operation]
    name = element_name(operation) + "Request"
    return f"<cs:{name}>{inner}</cs:{name}>" if inner else f"<cs:{name}/>"


TRANSACTION_ID = re.compile(rb"transactionId>(\d+)<")


# --- the raw baseline ------------------------------------------------------------------------
_REPLY_BODIES = {
    "Authorize": "<cs:idTagInfo><cs:status>Accepted</cs:status></cs:idTagInfo>",
    "BootNotification": ("<cs:status>Accepted</cs:status><cs:currentTime>{now}</cs:currentTime>"
                         "<cs:interval>300</cs:interval>"),
    "DataTransfer": "<cs:status>UnknownVendorId</cs:status>",
    "DiagnosticsStatusNotification": "",
    "FirmwareStatusNotification": "",
    "Heartbeat": "<cs:currentTime>{now}</cs:currentTime>",
    "MeterValues": "",
    "StartTransaction": ("<cs:transactionId>1</cs:transactionId>"
                         "<cs:idTagInfo><cs:status>Accepted</cs:status></cs:idTagInfo>"),
    "StatusNotification": "",
    "StopTransaction": "<cs:idTagInfo><cs:status>Accepted</cs:status></cs:idTagInfo>",
}
_REPLY_TEMPLATES = {
    element_name(op) + "Request": (
        '<?xml version=\'1.0\' encoding=\'utf-8\'?>\n'
        f'<s:Envelope xmlns:s="{SOAP12}" xmlns:a="{WSA}" xmlns:cs="{CS16}"><s:Header>'
        f"<a:Action>/{op}Response</a:Action><a:MessageID>urn:uuid:{{message_id}}</a:MessageID>"
        "<a:RelatesTo>{relates_to}</a:RelatesTo></s:Header><s:Body>"
        f"<cs:{element_name(op)}Response>{reply}</cs:{element_name(op)}Response>"
        "</s:Body></s:Envelope>")
    for op, reply in _REPLY_BODIES.items()}
_MESSAGE_ID_PATH = f"{{{SOAP12}}}Header/{{{WSA}}}MessageID"


def baseline_app(environ, start_response):
    """The floor: read, safe lxml parse, a reply template formatted with the current time."""
    data = environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"]))
    root = etree.fromstring(data, _PARSER)
    request = root[-1][0]
    template = _REPLY_TEMPLATES[etree.QName(request).localname]
    reply = template.format(now=utc_now(), message_id=uuid.uuid4(),
                            relates_to=root.findtext(_MESSAGE_ID_PATH)).encode()
    start_response("200 OK", [("Content-Type", CONTENT_TYPE),
                              ("Content-Length", str(len(reply)))])
    return [reply]


# --- database set-up -------------------------------------------------------------------------
def register(database_url: str, stations: list[str], tags: list[str]) -> None:
    """Migrate the schema and register Accepted stations and tags (max. 1 active transaction,
    the default of ``soapgw tag add``), as ``soapgw chargebox add`` / ``tag add`` would."""
    from soapgw.store.database import make_engine, make_session_factory
    from soapgw.store.migrate import upgrade
    from soapgw.store.models import ChargeBox, IdTag
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        with make_session_factory(engine).begin() as db:
            db.add_all([ChargeBox(charge_box_id=s, registration_status="Accepted")
                        for s in stations])
            db.add_all([IdTag(id_tag=t, max_active_transactions=1) for t in tags])
    finally:
        engine.dispose()


# Tags as ``soapgw tag add`` adds them (one a call there), with the store API of the checkout
# whose code runs it: the schema of another checkout may differ from this one's.
_ADD_TAGS = """
import os, sys
from soapgw.store.database import make_engine, make_session_factory
from soapgw.store.models import IdTag
engine = make_engine(os.environ["SOAPGW_DATABASE_URL"])
with make_session_factory(engine).begin() as db:
    db.add_all([IdTag(id_tag=t, max_active_transactions=1) for t in sys.argv[1:]])
engine.dispose()
"""


def register_in_tree(tree: Path, env: dict, stations: list[str], tags: list[str]) -> None:
    """``register`` with the code of another checkout, in subprocesses (its own schema):
    ``soapgw db upgrade`` and ``soapgw chargebox add`` of that tree, then its IdTag model.
    ``env`` names the database (SOAPGW_DATABASE_URL) and has PYTHONPATH=tree."""
    soapgw = soapgw_command(tree)
    for command in ([*soapgw, "db", "upgrade"], [*soapgw, "chargebox", "add", *stations],
                    [sys.executable, "-c", _ADD_TAGS, *tags]):
        done = subprocess.run(command, env=env, cwd=tree, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=300)
        if done.returncode != 0:
            raise SystemExit(f"registering in {tree} failed: {' '.join(command[:5])} ...: "
                             f"{done.stdout}{done.stderr}")


def machine_busy_seconds() -> float:
    """CPU seconds all processes on the machine have used so far (/proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def measure(server: Server, load, generator_in_process: bool = False) -> dict:
    """Run ``load()`` (a load generator's result: requests, seconds, generator_cpu_s, ...) and
    add the server's CPU (``server_cpu_s``), the CPU every other process on the machine used
    meanwhile (``others_cpu_s``: the figures are comparable only when it is low) and the
    rate. ``generator_in_process``: the generator's CPU is this process's own."""
    cpu0, machine0, own0 = server.cpu_seconds(), machine_busy_seconds(), time.process_time()
    result = load()
    result["server_cpu_s"] = server.cpu_seconds() - cpu0
    own = 0.0 if generator_in_process else time.process_time() - own0
    result["others_cpu_s"] = max(0.0, machine_busy_seconds() - machine0 - result["server_cpu_s"]
                                 - result["generator_cpu_s"] - own)
    result["rate"] = result["requests"] / result["seconds"]
    return result


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def soapgw_command(tree: Path = ROOT) -> list[str]:
    """The ``soapgw`` command of a checkout (``python -m soapgw``, or ``python -m soapgw.cli``
    in older ones without soapgw/__main__.py); PYTHONPATH and the working directory choose
    the checkout's code."""
    main = "soapgw" if (tree / "soapgw" / "__main__.py").is_file() else "soapgw.cli"
    return [sys.executable, "-m", main]


# What soapgw/server.py gives gunicorn by default, for the baseline app: its buffered threaded
# worker (requests read whole in the event loop, THREADS threads; without a UI pool the worker
# serves every path), timeout 60, graceful timeout 10, keep-alive 5.
BASELINE_GUNICORN = ("--worker-class", "soapgw.server_worker.GatewayWorker", "--threads",
                     str(THREADS), "--timeout", "60", "--graceful-timeout", "10",
                     "--keep-alive", "5", "--no-control-socket")
BASELINE_APP = "http_load:baseline_app"  # with --chdir benchmarks

_RUNNING: set[Server] = set()


@atexit.register
def _stop_running() -> None:
    for server in list(_RUNNING):
        server.stop()


class Server:
    """A gunicorn server in a subprocess on 127.0.0.1: ``soapgw serve`` with its own fresh
    SQLite file, or (``baseline=True``) the raw baseline app with the same gunicorn settings.
    ``tree``: ``soapgw serve`` of that checkout (its code, PYTHONPATH and working directory;
    stations and tags registered with its code) instead of this one; ``serve_args``: more
    options of ``soapgw serve``. Stopped at exit."""

    def __init__(self, directory: Path, workers: int, stations: list[str], tags: list[str],
                 baseline: bool = False, database_url: str | None = None,
                 tree: Path | None = None, serve_args: tuple[str, ...] = ()):
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.station = stations[0]
        url = self.database_url = database_url or f"sqlite:///{directory / 'http.db'}"
        root = tree or ROOT
        env = {k: v for k, v in os.environ.items() if not k.startswith("SOAPGW_")}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root),
                                                          os.environ.get("PYTHONPATH")]))
        if baseline:
            command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}",
                       "--workers", str(workers), *BASELINE_GUNICORN,
                       "--chdir", str(ROOT / "benchmarks"), BASELINE_APP]
        else:
            env.update(SOAPGW_DATABASE_URL=url, SOAPGW_INSTANCE_PATH=str(directory / "instance"))
            if tree is None:
                register(url, stations, tags)
            else:
                register_in_tree(tree, env, stations, tags)
            command = [*soapgw_command(root), "serve", "--host", "127.0.0.1", "--port",
                       str(self.port), "--workers", str(workers), *serve_args]
        self.name = ("gunicorn (baseline app)" if baseline
                     else "soapgw serve" + (f" of {tree}" if tree else ""))
        self.log_path = directory / "server.log"
        self.log = open(self.log_path, "wb")
        self.process = subprocess.Popen(command, env=env, cwd=root, stdout=self.log,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        start_new_session=True)
        _RUNNING.add(self)
        self.keeps_alive = None
        self._wait_ready(workers)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{SERVICE_PATH}"

    def _wait_ready(self, workers: int, timeout: float = 60) -> None:
        """Until a Heartbeat is answered 200 and every worker is up (bounded in time)."""
        deadline = time.monotonic() + timeout
        data = envelope(self.station, "Heartbeat", body("Heartbeat"), "urn:bench:ready")
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{self.name} exited with {self.process.returncode}:\n"
                                 + self.log_tail())
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            try:
                connection.request("POST", SERVICE_PATH, data, {"Content-Type": CONTENT_TYPE})
                reply = connection.getresponse()
                reply.read()
                if reply.status == 200 and len(self.worker_pids()) >= workers:
                    self.keeps_alive = not reply.will_close
                    return
            except OSError:
                pass
            finally:
                connection.close()
            time.sleep(0.2)
        self.stop()
        raise SystemExit(f"{self.name} did not answer within {timeout:g} s:\n" + self.log_tail())

    def worker_pids(self) -> list[int]:
        try:
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
            return [int(p) for p in children.read_text().split()]
        except OSError:
            return []

    def descendants(self) -> list[int]:
        """Every process under the master: its workers and the helpers that serve's threads
        started (a thread's children are listed under that thread's task only)."""
        found, todo = [], [self.process.pid]
        while todo:
            pid = todo.pop()
            try:
                tasks = os.listdir(f"/proc/{pid}/task")
            except OSError:
                continue
            for task in tasks:
                try:
                    children = Path(f"/proc/{pid}/task/{task}/children").read_text().split()
                except OSError:
                    continue
                for child in map(int, children):
                    found.append(child)
                    todo.append(child)
        return found

    def cpu_seconds(self) -> float:
        """CPU time (user + system) of the master, its workers and the helper processes (the
        housekeeper, the webhook dispatcher, the bridge) so far."""
        total = 0.0
        tick = os.sysconf("SC_CLK_TCK")
        for pid in [self.process.pid, *self.descendants()]:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / tick
            except (OSError, IndexError, ValueError):
                pass
        return total

    def settle(self, timeout: float = 30.0, idle: float = 0.04) -> None:
        """Until the server, unloaded, uses less than ``idle`` of a core over half a second
        (at most ``timeout`` s): soapgw serve starts its helper processes once it answers,
        and their imports (~1 s of CPU each) must not be measured as serving."""
        deadline = time.monotonic() + timeout
        before = self.cpu_seconds()
        while time.monotonic() < deadline:
            time.sleep(0.5)
            after = self.cpu_seconds()
            if after - before < idle * 0.5:
                return
            before = after

    def log_tail(self, lines: int = 30) -> str:
        if not self.log.closed:
            self.log.flush()
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def stop(self) -> None:
        """SIGTERM, then after 20 s SIGKILL to its process group (its own session)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self.log.close()
        _RUNNING.discard(self)

    def database_summary(self) -> dict:
        from sqlalchemy import text

        from soapgw.store.database import make_engine
        engine = make_engine(self.database_url)
        # a plain read (SQLite: no write lock), of this checkout's schema or another's
        with engine.connect().execution_options(soapgw_read_only=True) as db:
            query = lambda sql: db.execute(text(sql)).scalar()  # noqa: E731
            summary = dict(
                transactions=query('SELECT count(*) FROM "transaction"'),
                stopped=query('SELECT count(*) FROM "transaction" '
                              "WHERE stop_timestamp IS NOT NULL"),
                failed_stops=query("SELECT count(*) FROM failed_stop"),
                meter_values=query("SELECT count(*) FROM meter_value"),
                journal=query("SELECT count(*) FROM journal"),
                journal_in=query("SELECT count(*) FROM journal WHERE direction = 'in'"),
                journal_out=query("SELECT count(*) FROM journal WHERE direction = 'out'"),
                faults=query("SELECT count(*) FROM journal WHERE fault_code IS NOT NULL"))
        engine.dispose()
        return summary


# wrk: a Lua script per scenario. The mixed scenario keeps one session state per connection
# slot; a slot is busy while its request is in flight and is found again from the reply's
# wsa:RelatesTo (the MessageID carries the slot number), so a Stop always names the id that
# its own session's Start got back. Slot g of n runs its sessions from stations g, g + n,
# g + 2n ... in turn (as many as there are stations for every slot), so no two slots ever
# share a station. ``close``: every request says ``Connection: close``.
_WRK_COMMON = r"""
local path, ct = "__PATH__", "__CT__"
local head = '<s:Envelope xmlns:s="__SOAP12__" xmlns:a="__WSA__" xmlns:cs="__CS16__">'
  .. '<s:Header><cs:chargeBoxIdentity>'
local sequence = {__SESSION__}
local max_requests, slots_per_thread, all_slots = __MAXREQ__, __SLOTS__, __ALLSLOTS__
local close = __CLOSE__
local threads = {}
faults, anomalies, counter, tid = 0, 0, 0, tid or 0

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

local function envelope(station, op, message_id, inner)
  local name = op:sub(1, 1):lower() .. op:sub(2) .. "Request"
  local b
  if inner == "" then b = "<cs:" .. name .. "/>"
  else b = "<cs:" .. name .. ">" .. inner .. "</cs:" .. name .. ">" end
  return table.concat({head, station, "</cs:chargeBoxIdentity><a:MessageID>", message_id,
    "</a:MessageID><a:Action>/", op, "</a:Action>",
    "<a:From><a:Address>http://127.0.0.1:9/ocpp</a:Address></a:From>",
    "<a:To>http://127.0.0.1", path, "</a:To></s:Header><s:Body>", b, "</s:Body></s:Envelope>"})
end

local function post(op, data)
  local headers = {["Content-Type"] = ct .. '; action="/' .. op .. '"'}
  if close then headers["Connection"] = "close" end
  return wrk.format("POST", path, headers, data)
end

local function check(status, body)
  if status ~= 200 or body:find("Fault>", 1, true) then faults = faults + 1 end
  if counter >= max_requests then wrk.thread:stop() end
end

function done(summary, latency, requests)
  local f, a = 0, 0
  for _, t in ipairs(threads) do
    f = f + tonumber(t:get("faults")); a = a + tonumber(t:get("anomalies"))
  end
  local e = summary.errors
  io.write(string.format(
    "RESULT {\"requests\": %d, \"duration_us\": %d, \"p50_us\": %d, \"p90_us\": %d, " ..
    "\"p99_us\": %d, \"max_us\": %d, \"faults\": %d, \"anomalies\": %d, \"socket_errors\": %d, " ..
    "\"status_errors\": %d, \"timeouts\": %d}\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, f, a, e.connect + e.read + e.write, e.status,
    e.timeout))
end
"""

_WRK_HEARTBEAT = r"""
local stations = {__STATIONS__}
function request()
  counter = counter + 1
  local station = stations[(counter + tid) % #stations + 1]
  return post("Heartbeat", envelope(station, "Heartbeat",
    "urn:bench:" .. tid .. ":0:" .. counter, ""))
end
function response(status, headers, body) check(status, body) end
"""

_WRK_MIXED = r"""
local stations, tags = {__STATIONS__}, {__TAGS__}
local slots, rr = {}, 0
local stations_per_slot = math.max(1, math.floor(#stations / all_slots))
local samples = {{"Energy.Active.Import.Register", "Wh", nil}, {"Power.Active.Import", "W", nil},
  {"Current.Import", "A", "L1"}, {"Voltage", "V", "L1"}, {"SoC", "Percent", nil}}

function init(args)
  -- wrk calls request() once on the first thread to check the script, before connecting,
  -- and drops the result: that call must not take a slot.
  check_call_pending = (tid == 1)
  for s = 1, slots_per_thread do
    local g = (tid - 1) * slots_per_thread + s
    slots[s] = {step = 1, busy = false, tx = "0", meter = 0, station = stations[g], tag = tags[g],
                issued = 0, g = g, sessions = 0}
  end
end

local function meter_values(ts, energy)
  local out = {"<cs:meterValue><cs:timestamp>", ts, "</cs:timestamp>"}
  for _, s in ipairs(samples) do
    out[#out + 1] = "<cs:sampledValue><cs:value>" .. (s[1]:find("Energy") and energy or "7") ..
      "</cs:value><cs:context>Sample.Periodic</cs:context><cs:format>Raw</cs:format>" ..
      "<cs:measurand>" .. s[1] .. "</cs:measurand>" ..
      (s[3] and ("<cs:phase>" .. s[3] .. "</cs:phase>") or "") ..
      "<cs:location>Outlet</cs:location><cs:unit>" .. s[2] .. "</cs:unit></cs:sampledValue>"
  end
  out[#out + 1] = "</cs:meterValue>"
  return table.concat(out)
end

local function inner(op, slot, ts)
  if op == "BootNotification" then
    return "<cs:chargePointVendor>Bench</cs:chargePointVendor><cs:chargePointModel>B-22" ..
      "</cs:chargePointModel><cs:chargePointSerialNumber>SN-0001</cs:chargePointSerialNumber>" ..
      "<cs:firmwareVersion>1.4.2</cs:firmwareVersion><cs:meterType>DZG</cs:meterType>"
  elseif op == "StatusNotification" then
    return "<cs:connectorId>1</cs:connectorId><cs:status>Preparing</cs:status>" ..
      "<cs:errorCode>NoError</cs:errorCode><cs:timestamp>" .. ts .. "</cs:timestamp>"
  elseif op == "Authorize" then
    return "<cs:idTag>" .. slot.tag .. "</cs:idTag>"
  elseif op == "StartTransaction" then
    slot.meter = tid * 100000000 + counter * 10
    return "<cs:connectorId>1</cs:connectorId><cs:idTag>" .. slot.tag .. "</cs:idTag>" ..
      "<cs:timestamp>" .. ts .. "</cs:timestamp><cs:meterStart>" .. slot.meter ..
      "</cs:meterStart>"
  elseif op == "MeterValues" then
    slot.meter = slot.meter + 1
    return "<cs:connectorId>1</cs:connectorId><cs:transactionId>" .. slot.tx ..
      "</cs:transactionId>" .. meter_values(ts, slot.meter)
  else
    return "<cs:transactionId>" .. slot.tx .. "</cs:transactionId><cs:idTag>" .. slot.tag ..
      "</cs:idTag><cs:timestamp>" .. ts .. "</cs:timestamp><cs:meterStop>" ..
      (slot.meter + 1) .. "</cs:meterStop><cs:reason>Local</cs:reason>"
  end
end

function request()
  if check_call_pending then
    check_call_pending = false
    return post("Heartbeat", envelope(stations[1], "Heartbeat", "urn:bench:check", ""))
  end
  local s = nil
  for _ = 1, slots_per_thread do
    rr = rr % slots_per_thread + 1
    if not slots[rr].busy then s = rr; break end
  end
  if s == nil then  -- a reply never came (socket error): take the oldest busy slot over
    anomalies = anomalies + 1
    s = 1
    for i = 2, slots_per_thread do if slots[i].issued < slots[s].issued then s = i end end
  end
  local slot = slots[s]
  counter = counter + 1
  slot.busy, slot.issued = true, counter
  local op = sequence[slot.step]
  if slot.step == 1 then  -- a new session: this slot's next station
    slot.station = stations[(slot.sessions % stations_per_slot) * all_slots + slot.g]
    slot.sessions = slot.sessions + 1
  end
  local ts = os.date("!%Y-%m-%dT%H:%M:%SZ")
  return post(op, envelope(slot.station, op, "urn:bench:" .. tid .. ":" .. s .. ":" .. counter,
    inner(op, slot, ts)))
end

function response(status, headers, body)
  check(status, body)
  local s = tonumber(body:match("RelatesTo>urn:bench:%d+:(%d+):%d+<") or "")
  local slot = s and slots[s]
  if slot == nil then anomalies = anomalies + 1; return end
  slot.busy = false
  if sequence[slot.step] == "StartTransaction" then
    local tx = body:match("transactionId>(%d+)<")
    if tx == nil then anomalies = anomalies + 1; slot.step = 1; return end
    slot.tx = tx
  end
  slot.step = slot.step % #sequence + 1
end
"""


def wrk_script(scenario: str, stations: list[str], tags: list[str], slots: int,
               max_requests: int, threads: int = 1, close: bool = False) -> str:
    """The Lua script of ``scenario`` (heartbeat, mixed) for wrk with ``threads`` threads of
    ``slots`` connections each; the mixed one needs a station and a tag per connection."""
    if scenario == "mixed" and min(len(stations), len(tags)) < slots * threads:
        raise ValueError("the mixed scenario needs a station and a tag per connection")
    lua = lambda items: ", ".join(f'"{item}"' for item in items)  # noqa: E731
    text = _WRK_COMMON + (_WRK_HEARTBEAT if scenario == "heartbeat" else _WRK_MIXED)
    for key, value in {"__PATH__": SERVICE_PATH, "__CT__": CONTENT_TYPE, "__SOAP12__": SOAP12,
                       "__WSA__": WSA, "__CS16__": CS16, "__SESSION__": lua(SESSION),
                       "__MAXREQ__": str(max_requests), "__SLOTS__": str(slots),
                       "__ALLSLOTS__": str(slots * threads),
                       "__CLOSE__": "true" if close else "false",
                       "__STATIONS__": lua(stations), "__TAGS__": lua(tags)}.items():
        text = text.replace(key, value)
    return text


def run_wrk(url: str, directory: Path, scenario: str, stations: list[str], tags: list[str], *,
            clients: int, threads: int, seconds: float, max_rps: int,
            close: bool = False) -> dict:
    """wrk for ``seconds`` (whole seconds, as wrk takes them; and at most ``max_rps`` requests a
    second) with ``clients`` connections on ``threads`` threads: its counts, latencies (p50_ms,
    p99_ms) and CPU."""
    seconds = max(1, round(seconds))
    if clients % threads:
        raise SystemExit("the clients must be a multiple of wrk's threads")
    script = directory / f"{scenario}.lua"
    max_requests = int(max_rps * seconds / threads) + 1
    script.write_text(wrk_script(scenario, stations, tags, clients // threads, max_requests,
                                 threads, close))
    command = ["wrk", "-t", str(threads), "-c", str(clients), "-d", f"{seconds}s",
               "--timeout", "10s", "-s", str(script), url]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    completed = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60,
                               stdin=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = next((l for l in completed.stdout.splitlines() if l.startswith("RESULT ")), None)
    if completed.returncode != 0 or line is None:
        raise SystemExit(f"wrk failed ({completed.returncode}):\n{completed.stdout}\n"
                         f"{completed.stderr}")
    result = json.loads(line[len("RESULT "):])
    result["generator_cpu_s"] = ((after.ru_utime + after.ru_stime)
                                 - (before.ru_utime + before.ru_stime))
    result["seconds"] = result["duration_us"] / 1e6
    result["p50_ms"], result["p99_ms"] = result["p50_us"] / 1000, result["p99_us"] / 1000
    return result
