"""Form values → the contract's request models, with pydantic's complaints as field messages.

The forms check as the user types with the same rules (``api.validation``), so a request that
fails here is rare (a rule only the model knows, like strict priority taking no level); when
it does, the message lands next to the field it concerns instead of as a traceback.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import ValidationError

from stratus_tui.api import models

R = TypeVar("R", bound=models.Request)


class RequestRefused(Exception):
    """The values do not make a valid request; ``field_errors`` says where and why."""

    def __init__(self, field_errors: dict[str, str]) -> None:
        super().__init__(
            "; ".join(f"{name or 'form'}: {text}" for name, text in field_errors.items())
        )
        self.field_errors = field_errors


def build(model: type[R], data: Mapping[str, Any], rename: Mapping[str, str] | None = None) -> R:
    """``model`` from ``data``; ``rename`` maps a request location ("distribution.wrr_level")
    to the form field that holds it ("wrr_level")."""
    try:
        return model.model_validate(dict(data))
    except ValidationError as error:
        raise RequestRefused(field_errors(error, rename or {})) from None


def field_errors(error: ValidationError, rename: Mapping[str, str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for problem in error.errors():
        location = ".".join(str(part) for part in problem["loc"])
        name = rename.get(location, location.split(".")[0] if location else "")
        message = str(problem["msg"]).removeprefix("Value error, ")
        found.setdefault(name, message)
    return found


def server_field(location: str, rename: Mapping[str, str]) -> str:
    """The form field of a location in the server's 422 answer ("endpoints.0.address")."""
    if location in rename:
        return rename[location]
    head = location.split(".")[0]
    return rename.get(head, head)
