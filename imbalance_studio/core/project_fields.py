"""What every model of the project file shares: strict validation and the `Name` field type."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer, ValidationInfo

from .names import escape_name, unescape_name


class StrictModel(BaseModel):
    # Hand-edited files with a misspelt key must fail loudly, not lose the setting.
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


def _from_file(value: object, info: ValidationInfo) -> object:
    # Only text read from a file is in the escaped form; a str handed over in Python is the
    # name itself (a real name may hold the text "\xff").
    if info.mode == "json" and isinstance(value, str):
        return unescape_name(value)
    return value


# A class name or path as the file system gives it. Undecodable bytes (surrogate escapes)
# cannot go into UTF-8 JSON, so the file holds the text form of `core.names` (`bad\xff`)
# and loading gives back the same str.
Name = Annotated[str, BeforeValidator(_from_file), PlainSerializer(escape_name, when_used="json")]
