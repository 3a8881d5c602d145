"""Log lines: the per-request access line, admin audit lines, escaping and output formats.

Every value that came from a client is escaped before it reaches a log line, so a request
cannot forge a line (newline) or make the log binary (NUL).  ``configure`` sets up the
``serve`` command's output: text or one JSON object per line, through one writer thread.
"""
from __future__ import annotations

import datetime
import json
import logging
import logging.handlers
import queue
import re
import sys
import threading
import time
from typing import Any, TextIO

access_log = logging.getLogger("mockface.access")
admin_log = logging.getLogger("mockface.admin")

LOG_FORMATS = ("text", "json")
LOG_LEVELS = ("debug", "info", "warning", "error")
_PLAIN = re.compile(r"[\w.:/#@+\-]+")
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
MAX_VALUE = 200  # characters of one logged value
TEXT_FORMAT = "%(asctime)s %(name)s %(message)s"
_direct: queue.SimpleQueue | None = None  # the writer's queue, once configure() has run


def log_value(value: Any) -> str:
    """``value`` as one safe token: plain words as they are, anything else JSON-quoted with
    every control character escaped, clipped to MAX_VALUE characters."""
    if value is None:
        return "-"
    text = str(value)
    if len(text) > MAX_VALUE:
        text = f"{text[:MAX_VALUE]}...(+{len(text) - MAX_VALUE})"
    if _PLAIN.fullmatch(text):
        return text
    return escape_controls(json.dumps(text, ensure_ascii=False))


def log_fields(**fields: Any) -> str:
    """``key=value`` pairs, each value escaped by log_value; None values are left out."""
    return " ".join(f"{key}={log_value(value)}" for key, value in fields.items()
                    if value is not None)


def log_access(method: str, path: str, *, appid: str | None, code: int | str | None,
               status: int | None, latency_ms: float, rule: str | None = None,
               reason: str | None = None, fault: str | None = None,
               miss: str | None = None) -> None:
    """One INFO line for one request to an emulated endpoint (nothing is built when INFO
    is off, as with ``--quiet``)."""
    if not access_log.isEnabledFor(logging.INFO):
        return
    fields = {"method": method, "path": path, "appid": appid, "code": code, "status": status,
              "latency_ms": round(latency_ms, 3), "rule": rule, "fault": fault,
              "reason": reason or None, "miss": miss}
    outcome = f"code=- fault={log_value(fault)}" if fault else f"code={code} status={status}"
    text = (f"{log_value(method)} {log_value(path)} appid={log_value(appid)} {outcome} "
            f"{latency_ms:.1f}ms rule={log_value(rule or 'default')}")
    if reason:
        text += f" reason={log_value(reason)}"
    if miss:
        text += f" miss={log_value(miss)}"
    records = _direct
    if records is not None and not access_log.handlers and len(logging.root.handlers) == 1:
        # Only mockface's own writer listens (configure() set it up): hand it the record
        # straight away, as Logger.info would, without a fifth of a small request's cost.
        record = logging.LogRecord(access_log.name, logging.INFO, "", 0, text, None, None)
        record.fields = fields
        record.escaped = True  # every value went through log_value
        records.put(record)
    else:
        access_log.info(text, extra={"fields": fields})


def log_admin(action: str, **fields: Any) -> None:
    """One INFO line for an admin action that changed the server's state."""
    admin_log.info("%s %s", action, log_fields(**fields),
                   extra={"fields": {"action": action, **fields}})


def escape_controls(text: str) -> str:
    """``text`` with every control character written as ``\\uXXXX``: one line, no NUL."""
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


class SafeFormatter(logging.Formatter):
    """Escapes control characters in every message (whatever a log call passed in), then
    appends a traceback, which alone may span lines."""

    _second = -1
    _stamp = ""

    def format(self, record: logging.LogRecord) -> str:
        if getattr(record, "escaped", False) and self._fmt == TEXT_FORMAT:
            return f"{self.formatTime(record)} {record.name} {record.msg}"  # as below, sooner
        return super().format(record)

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        return escape_controls(super().formatMessage(record))

    def formatTime(self, record: logging.LogRecord,  # noqa: N802 - logging's name
                   datefmt: str | None = None) -> str:
        """logging's default time stamp, its seconds part made once per second (one writer
        thread formats every record)."""
        second = int(record.created)
        if second != self._second:
            self._stamp = time.strftime(self.default_time_format, self.converter(second))
            self._second = second
        return f"{self._stamp},{int(record.msecs):03d}"


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message (with its traceback, if
    any) and the record's fields."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + self.formatException(record.exc_info)
        entry: dict[str, Any] = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.timezone.utc)
            .isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(), "logger": record.name, "message": message}
        entry.update(getattr(record, "fields", {}))
        return json.dumps(entry, ensure_ascii=False, default=str)


class _Feeder(logging.handlers.QueueHandler):
    """Hands records to the writer thread as they are (it is the only handler): the request
    thread only merges a record's arguments into its message, so later changes to them
    cannot show; all formatting and escaping happen in the writer thread."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        record.msg, record.args = record.getMessage(), None
        return record


class LogWriter:
    """The one thread that writes log records: woken by a record, it lets LINGER seconds of
    records gather, then writes all that wait with one write and one flush.  A busy
    server's access lines so cost a wake-up per batch, not per request: woken per record,
    the thread took a third of a small request's CPU (bench-peers W1)."""

    _STOP = object()
    BATCH = 1000
    LINGER = 0.02

    def __init__(self, records: queue.SimpleQueue, formatter: logging.Formatter,
                 stream: TextIO) -> None:
        self.records = records
        self.formatter = formatter
        self.stream = stream
        self.thread = threading.Thread(target=self._run, name="mockface-log", daemon=True)

    def start(self) -> LogWriter:
        self.thread.start()
        return self

    def stop(self) -> None:
        """Write everything logged so far, then end the thread."""
        global _direct
        if _direct is self.records:
            _direct = None
        self.records.put(self._STOP)
        self.thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            batch = [self.records.get()]
            if batch[0] is not self._STOP:
                time.sleep(self.LINGER)
            while len(batch) < self.BATCH:
                try:
                    batch.append(self.records.get_nowait())
                except queue.Empty:
                    break
            stopping = any(record is self._STOP for record in batch)
            lines = [self._format(record) for record in batch if record is not self._STOP]
            if lines:
                try:
                    self.stream.write("\n".join(lines) + "\n")
                    self.stream.flush()
                except (OSError, ValueError):
                    pass  # a closed or broken stream must not kill the writer
            if stopping:
                return

    def _format(self, record: logging.LogRecord) -> str:
        try:
            return self.formatter.format(record)
        except Exception as error:  # a bad record must not kill the writer
            return f"(unformattable log record from {record.name}: {error!r})"


def configure(level: str = "info", fmt: str = "text", stream: TextIO | None = None
              ) -> LogWriter:
    """Route every log record through a queue to one writer thread (request threads never
    wait on each other for the stream; a shared stream handler cut throughput by three
    quarters at 64 connections).  Returns the started writer: ``stop()`` flushes it."""
    records: queue.SimpleQueue = queue.SimpleQueue()
    formatter = JsonFormatter() if fmt == "json" else \
        SafeFormatter(TEXT_FORMAT)
    # What no line of mockface's shows costs nothing to collect (the logging HOWTO's
    # "Optimization"): the caller's frame, thread, process.  A fifth of a small request
    # went to making its access record.
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    global _direct
    _direct = records
    root = logging.getLogger()
    root.handlers[:] = [_Feeder(records)]
    root.setLevel(getattr(logging, level.upper()))
    logging.getLogger("waitress").setLevel(max(logging.WARNING, root.level))
    return LogWriter(records, formatter, stream or sys.stderr).start()
