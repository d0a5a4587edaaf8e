"""Applying a PATCH: the stored values, overlaid with the fields sent, re-validated whole so
that rules across fields hold after every change."""

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from app.core.errors import Unprocessable

M = TypeVar("M", bound=BaseModel)


def apply_patch(schema: type[M], stored: object, changes: dict[str, Any]) -> M:
    current = {name: getattr(stored, name) for name in schema.model_fields}
    if "departement" in changes and "region" not in changes and "region" in current:
        current["region"] = None  # re-derived from the new département
    try:
        return schema.model_validate(current | changes)
    except ValidationError as error:
        raise Unprocessable.from_validation(error) from None
