"""Logs that can be followed across processes: each line carries the request id it belongs to, and is one JSON
object when LOG_FORMAT=json (python-json-logger), so a log shipper needs no parser of ours.

The request id comes from the proxy's X-Request-ID when it sends a well-formed one, or is made here; it is
echoed in the response, so a customer's "it failed" can be found in the logs by the id their browser saw.
"""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar, Token
from typing import TextIO

from pythonjsonlogger.json import JsonFormatter

from services.config import get_settings

REQUEST_ID_HEADER = "x-request-id"
_WELL_FORMED = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")  # what we accept from a proxy: no spaces, no injection
_request_id: ContextVar[str] = ContextVar("request_id", default="-")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s"


def new_request_id(offered: str | None = None) -> str:
    """The proxy's id when it is well formed, else a fresh one."""
    if offered and _WELL_FORMED.match(offered):
        return offered
    return uuid.uuid4().hex


def bind_request_id(request_id: str) -> Token[str]:
    """Make `request_id` the current one (for this task or thread); returns the token to `reset_request_id`."""
    return _request_id.set(request_id)


def reset_request_id(token: Token[str]) -> None:
    _request_id.reset(token)


def current_request_id() -> str:
    return _request_id.get()


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record ("-" outside a request), so both formats can name it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = _request_id.get()
        return True


def formatter(log_format: str | None = None) -> logging.Formatter:
    chosen = (log_format or get_settings().log_format).lower()
    if chosen == "json":
        return JsonFormatter(JSON_FIELDS, rename_fields={"levelname": "level", "asctime": "time", "name": "logger"})
    return logging.Formatter(TEXT_FORMAT)


class PortalHandler(logging.StreamHandler[TextIO]):
    """The portal's one handler on the root logger (configuring again replaces it, never doubles lines)."""


def configure_logging(
    level: int = logging.INFO, log_format: str | None = None, *, replace_others: bool = False
) -> None:
    """One handler on the root logger, in the chosen format, with the request id on every line.

    `replace_others` also removes handlers someone else put there (huey's consumer adds a plain one of its own),
    so each line is written once, in our format."""
    handler = PortalHandler()
    handler.setFormatter(formatter(log_format))
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    for existing in [h for h in root.handlers if replace_others or isinstance(h, PortalHandler)]:
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
