"""Structured logs: one JSON object per line, for log shippers."""

from __future__ import annotations

import logging

import orjson

from registry.clock import from_epoch_s, to_rfc3339


class JsonFormatter(logging.Formatter):
    """Formats a log record as a one-line JSON object (time, level, logger, message, error)."""

    def format(self, record: logging.LogRecord) -> str:
        document = {
            "time": to_rfc3339(from_epoch_s(record.created)),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            document["error"] = self.formatException(record.exc_info)
        return orjson.dumps(document).decode()


def use_json_logs() -> None:
    """Switch every root handler to JSON lines."""
    for handler in logging.getLogger().handlers:
        handler.setFormatter(JsonFormatter())
