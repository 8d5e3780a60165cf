"""Forms from the console, parsed by typed pydantic models: each field checked, every bad field named.

A model is the whole contract of one form (what it accepts, in which range, with which message); `parse` turns
pydantic's errors into the ValidationFailed every page already shows next to the fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from services.errors import ValidationFailed

M = TypeVar("M", bound=BaseModel)
# error kinds whose wording comes from the field itself (`json_schema_extra={"message": ...}`)
FIELD_WORDED = {
    "string_pattern_mismatch",
    "string_too_short",
    "string_too_long",
    "literal_error",
    "string_type",
    "missing",
}


def parse(model: type[M], values: Mapping[str, Any]) -> M:
    try:
        return model.model_validate(dict(values))
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else ""
            errors.setdefault(field, _message(model, field, error))
        raise ValidationFailed(errors) from None


def _message(model: type[BaseModel], field: str, error: Any) -> str:
    info = model.model_fields.get(field)
    extra = info.json_schema_extra if info is not None else None
    if error["type"] in FIELD_WORDED and isinstance(extra, dict) and "message" in extra:
        return str(extra["message"])
    context = error.get("ctx") or {}
    if error["type"] == "greater_than_equal":
        return f"must be {context['ge']} or more"
    if error["type"] == "less_than_equal":
        return f"must be {context['le']:,} or less"
    if error["type"] in ("int_parsing", "int_from_float", "int_type"):
        return "must be a whole number"
    if error["type"] == "value_error":
        return str(context.get("error", error["msg"]))
    return str(error["msg"])
