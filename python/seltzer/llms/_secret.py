"""API keys kept out of reprs, logs and error messages."""

from __future__ import annotations

import os
from collections.abc import Sequence

__all__ = ["SecretStr", "secret_from"]


class SecretStr:
    """A string that shows as ``'**********'``; ``get_secret_value()`` reveals it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        """The secret itself."""
        return self._value

    def __repr__(self) -> str:
        return "SecretStr('**********')"

    def __str__(self) -> str:
        return "**********"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretStr) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("SecretStr cannot be pickled")


def secret_from(value: str | SecretStr | None, variables: Sequence[str]) -> SecretStr | None:
    """``value`` as a secret, else the first non-empty environment variable of
    ``variables``, else None."""
    if isinstance(value, SecretStr):
        return value
    if value:
        return SecretStr(value)
    for name in variables:
        found = os.environ.get(name)
        if found:
            return SecretStr(found)
    return None
