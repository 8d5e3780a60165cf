"""Log lines carry the request id; LOG_FORMAT=json makes each line one JSON object."""

from __future__ import annotations

import io
import json
import logging

from services.ops import logs


def _line(log_format: str, request_id: str | None) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.formatter(log_format))
    handler.addFilter(logs.RequestIdFilter())
    logger = logging.getLogger("portal.test.logs")
    logger.addHandler(handler)
    logger.propagate = False
    token = logs.bind_request_id(request_id) if request_id else None
    try:
        logger.warning("instance %s restarted", "alpha")
    finally:
        if token is not None:
            logs.reset_request_id(token)
        logger.removeHandler(handler)
    return stream.getvalue().strip()


def test_json_lines_are_objects_with_the_request_id() -> None:
    record = json.loads(_line("json", "req-abcdef123456"))
    assert record["message"] == "instance alpha restarted" and record["request_id"] == "req-abcdef123456"
    assert record["level"] == "WARNING" and record["logger"] == "portal.test.logs" and "time" in record


def test_text_lines_name_the_request_id_and_outside_a_request_a_dash() -> None:
    assert "[req-abcdef123456] instance alpha restarted" in _line("text", "req-abcdef123456")
    assert "[-] instance alpha restarted" in _line("text", None)
    assert logs.current_request_id() == "-"


def test_configuring_twice_keeps_one_handler() -> None:
    root = logging.getLogger()
    before = list(root.handlers)
    try:
        logs.configure_logging(log_format="json")
        logs.configure_logging(log_format="text")
        assert sum(isinstance(h, logs.PortalHandler) for h in root.handlers) == 1
        root.addHandler(logging.StreamHandler())  # as huey's consumer does
        logs.configure_logging(replace_others=True)
        assert len(root.handlers) == 1 and isinstance(root.handlers[0], logs.PortalHandler)
    finally:
        root.handlers = before
