"""Secrets that must not reach the access log: the tokens of e-mailed links travel in the
query string (`?token=…`), and mail scanners open those links before people do. Whoever
reads the log, the server's or a proxy's, must not be able to use them."""

import copy
import logging
import re
from typing import Any

from uvicorn.config import LOGGING_CONFIG

_TOKEN = re.compile(r"(?i)\b(token=)[^&\s]*")


def redact(text: str) -> str:
    return _TOKEN.sub(r"\1[redacted]", text)


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        # uvicorn.access: (client address, method, path with its query, version, status)
        if isinstance(record.args, tuple) and len(record.args) >= 3:
            args = list(record.args)
            args[2] = redact(str(args[2]))
            record.args = tuple(args)
        return True


def logging_config() -> dict[str, Any]:
    """uvicorn's own configuration, its access log filtered."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_tokens"] = {"()": RedactTokens}
    config["handlers"]["access"]["filters"] = ["redact_tokens"]
    return config
