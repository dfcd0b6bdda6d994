"""The message base class: LangChain's field names (``content``, ``additional_kwargs``,
``response_metadata``, ``type``, ``name``, ``id``), value equality and ``model_dump``."""

from __future__ import annotations

from typing import Any, ClassVar

from seltzer.messages.merge import merge_content, merge_dicts

__all__ = ["BaseMessage", "BaseMessageChunk", "dump"]


class BaseMessage:
    """A chat message; subclasses fix ``type`` and may add fields."""

    type: ClassVar[str] = "base"
    #: Extra fields beyond the base ones, in LangChain's order, with their defaults.
    _extra_fields: ClassVar[tuple[tuple[str, Any], ...]] = ()

    __slots__ = ("additional_kwargs", "content", "id", "name", "response_metadata")

    def __init__(
        self,
        content: str | list[Any] = "",
        *,
        additional_kwargs: dict[str, Any] | None = None,
        response_metadata: dict[str, Any] | None = None,
        name: str | None = None,
        id: str | None = None,
    ) -> None:
        self.content = content
        self.additional_kwargs = additional_kwargs if additional_kwargs is not None else {}
        self.response_metadata = response_metadata if response_metadata is not None else {}
        self.name = name
        self.id = id

    @property
    def text(self) -> str:
        """The text of ``content`` (text blocks joined when it is a list)."""
        if isinstance(self.content, str):
            return self.content
        return "".join(
            block
            if isinstance(block, str)
            else block.get("text", "")
            if isinstance(block, dict) and block.get("type") == "text"
            else ""
            for block in self.content
        )

    def _field_items(self) -> list[tuple[str, Any]]:
        base = [
            ("content", self.content),
            ("additional_kwargs", self.additional_kwargs),
            ("response_metadata", self.response_metadata),
            ("type", self.type),
            ("name", self.name),
            ("id", self.id),
        ]
        return base + [(field, getattr(self, field)) for field, _ in self._extra_fields]

    def model_dump(self) -> dict[str, Any]:
        """The message as a plain dict with LangChain's keys (as pydantic dumps it)."""
        return {key: dump(value) for key, value in self._field_items()}

    def base_dump(self) -> dict[str, Any]:
        """Only the base fields, as pydantic dumps a message held as a ``BaseMessage``
        (inside a ``ChatPromptValue``)."""
        return {key: dump(value) for key, value in self._field_items()[:6]}

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, BaseMessage)
        return self._field_items() == other._field_items()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        shown = []
        for key, value in self._field_items():
            if key == "type":
                continue
            default = dict(self._extra_fields).get(key)
            if key in ("name", "id") and value is None:
                continue
            if key in ("usage_metadata", "chunk_position", "artifact") and value == default:
                continue
            shown.append(f"{key}={value!r}")
        return f"{type(self).__name__}({', '.join(shown)})"


class BaseMessageChunk(BaseMessage):
    """A message fragment from a stream; ``+`` joins fragments of the same class."""

    __slots__ = ()

    def __add__(self, other: Any) -> BaseMessageChunk:
        if not isinstance(other, BaseMessageChunk):
            return NotImplemented
        return type(self)(
            merge_content(self.content, other.content),
            additional_kwargs=merge_dicts(self.additional_kwargs, other.additional_kwargs),
            response_metadata=merge_dicts(self.response_metadata, other.response_metadata),
            id=self.id or other.id,
        )


def dump(value: Any) -> Any:
    """``model_dump`` of a value that may hold messages (recursively), else the value."""
    if hasattr(value, "model_dump") and not isinstance(value, type):
        return value.model_dump()
    if isinstance(value, list):
        return [dump(v) for v in value]
    if isinstance(value, dict):
        return {k: dump(v) for k, v in value.items()}
    return value
