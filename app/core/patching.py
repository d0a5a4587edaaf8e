"""Applying a PATCH: the stored values, overlaid with the fields sent, re-validated whole so
that rules across fields hold after every change."""

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from app.core.errors import Unprocessable

M = TypeVar("M", bound=BaseModel)


def apply_patch(
    schema: type[M],
    stored: object,
    changes: dict[str, Any],
    derived: dict[str, str] | None = None,
) -> M:
    """``derived`` maps a field to one the schema derives from it (département → région):
    when the first changes and the second is not sent, the stale value is dropped so that
    the schema derives it again."""
    current = {name: getattr(stored, name) for name in schema.model_fields}
    for source, target in (derived or {}).items():
        if source in changes and target not in changes:
            current[target] = None
    try:
        return schema.model_validate(current | changes)
    except ValidationError as error:
        raise Unprocessable.from_validation(error) from None
