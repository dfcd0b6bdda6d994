"""Which runs' events ``astream_events`` keeps: by name, run type and tag, with
LangChain's include / exclude rules."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["EventFilter"]


class EventFilter:
    """Include any run that matches one ``include_*`` (all runs when none is given),
    then drop runs that match an ``exclude_*``."""

    __slots__ = (
        "exclude_names",
        "exclude_tags",
        "exclude_types",
        "include_names",
        "include_tags",
        "include_types",
    )

    def __init__(
        self,
        *,
        include_names: Sequence[str] | None = None,
        include_types: Sequence[str] | None = None,
        include_tags: Sequence[str] | None = None,
        exclude_names: Sequence[str] | None = None,
        exclude_types: Sequence[str] | None = None,
        exclude_tags: Sequence[str] | None = None,
    ) -> None:
        self.include_names = include_names
        self.include_types = include_types
        self.include_tags = include_tags
        self.exclude_names = exclude_names
        self.exclude_types = exclude_types
        self.exclude_tags = exclude_tags

    @property
    def everything(self) -> bool:
        """Whether every run passes."""
        return all(
            f is None
            for f in (
                self.include_names,
                self.include_types,
                self.include_tags,
                self.exclude_names,
                self.exclude_types,
                self.exclude_tags,
            )
        )

    def keeps(self, name: str, run_type: str, tags: Sequence[str] | None) -> bool:
        """Whether events of a run with this name, type and tags are kept."""
        tags = tags or []
        include = (
            self.include_names is None and self.include_types is None and self.include_tags is None
        )
        if self.include_names is not None:
            include = include or name in self.include_names
        if self.include_types is not None:
            include = include or run_type in self.include_types
        if self.include_tags is not None:
            include = include or any(tag in self.include_tags for tag in tags)
        if self.exclude_names is not None:
            include = include and name not in self.exclude_names
        if self.exclude_types is not None:
            include = include and run_type not in self.exclude_types
        if self.exclude_tags is not None:
            include = include and all(tag not in self.exclude_tags for tag in tags)
        return include
