"""Prompt templates: ``PromptTemplate`` (one f-string) and ``ChatPromptTemplate``
(messages from (role, template) pairs, messages and placeholders). Invoked with a
dict of variables, they produce a prompt value as a ``"prompt"`` run."""

from __future__ import annotations

import string
from collections.abc import Sequence
from typing import Any

from seltzer.messages.base import BaseMessage
from seltzer.messages.convert import to_message, to_messages
from seltzer.messages.kinds import AIMessage, HumanMessage, SystemMessage
from seltzer.messages.prompt_values import ChatPromptValue, PromptValue, StringPromptValue
from seltzer.runnables.base import Runnable
from seltzer.runnables.config import RunnableConfig, ensure_config

__all__ = ["ChatPromptTemplate", "MessagesPlaceholder", "PromptTemplate"]


def template_variables(template: str) -> list[str]:
    """The variables an f-string template uses, in order of first use."""
    names: list[str] = []
    for _, field, _, _ in string.Formatter().parse(template):
        if field is not None:
            name = field.split(".")[0].split("[")[0]
            if not name:
                raise ValueError(f"positional fields are not allowed in templates: {template!r}")
            if name not in names:
                names.append(name)
    return names


class BasePromptTemplate(Runnable):
    """What both templates share: variables, partials, validation and invocation."""

    input_variables: list[str]
    partial_variables: dict[str, Any]
    tags: list[str] | None = None
    metadata: dict[str, Any] | None = None

    def format_prompt(self, **kwargs: Any) -> PromptValue:
        """The prompt value for these variables."""
        raise NotImplementedError

    def _validate(self, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            if len(self.input_variables) != 1:
                raise TypeError(
                    f"Expected mapping type as input to {type(self).__name__}. "
                    f"Received {type(value)}."
                )
            value = {self.input_variables[0]: value}
        missing = set(self.input_variables).difference(value)
        if missing:
            raise KeyError(
                f"Input to {type(self).__name__} is missing variables {missing}. "
                f" Expected: {self.input_variables} Received: {list(value)}"
            )
        return dict(value)

    def _format(self, value: Any) -> PromptValue:
        return self.format_prompt(**self._validate(value))

    async def _aformat(self, value: Any) -> PromptValue:
        return self._format(value)

    def _config(self, config: RunnableConfig | None) -> RunnableConfig:
        config = ensure_config(config)
        if self.metadata:
            config["metadata"] = {**config["metadata"], **self.metadata}
        if self.tags:
            config["tags"] = config["tags"] + self.tags
        return config

    def invoke(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> PromptValue:
        """Formats the prompt from a dict of variables (or the one variable's value).

        Raises:
            KeyError: A variable is missing.
            TypeError: Not a dict, and the template has more than one variable.
        """
        value: PromptValue = self._call_with_config(
            self._format, input, self._config(config), run_type="prompt"
        )
        return value

    async def ainvoke(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> PromptValue:
        """The async twin of ``invoke``."""
        value: PromptValue = await self._acall_with_config(
            self._aformat, input, self._config(config), run_type="prompt"
        )
        return value

    def _merged(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        partials = {k: v() if callable(v) else v for k, v in self.partial_variables.items()}
        return {**partials, **kwargs}


class PromptTemplate(BasePromptTemplate):
    """A prompt from one f-string template ("Tell me about {topic}").

    Args:
        template: The template.
        input_variables: Its variables (found in the template when omitted).
        partial_variables: Values (or functions giving them) fixed in advance.
    """

    def __init__(
        self,
        template: str,
        input_variables: list[str] | None = None,
        partial_variables: dict[str, Any] | None = None,
    ) -> None:
        self.template = template
        self.partial_variables = dict(partial_variables or {})
        found = template_variables(template)
        self.input_variables = (
            list(input_variables)
            if input_variables is not None
            else [v for v in found if v not in self.partial_variables]
        )

    @classmethod
    def from_template(
        cls, template: str, *, partial_variables: dict[str, Any] | None = None
    ) -> PromptTemplate:
        """A template whose variables are those ``template`` names."""
        return cls(template, partial_variables=partial_variables)

    def __repr__(self) -> str:
        return (
            f"PromptTemplate(input_variables={self.input_variables!r}, template={self.template!r})"
        )

    def partial(self, **kwargs: Any) -> PromptTemplate:
        """A copy with some variables fixed."""
        return PromptTemplate(
            self.template,
            [v for v in self.input_variables if v not in kwargs],
            {**self.partial_variables, **kwargs},
        )

    def format(self, **kwargs: Any) -> str:
        """The formatted string."""
        return self.template.format(**self._merged(kwargs))

    def format_prompt(self, **kwargs: Any) -> StringPromptValue:
        """The formatted prompt as a ``StringPromptValue``."""
        return StringPromptValue(self.format(**kwargs))


class MessagesPlaceholder:
    """Where a list of messages from a variable goes in a chat prompt."""

    def __init__(self, variable_name: str, *, optional: bool = False) -> None:
        self.variable_name = variable_name
        self.optional = optional

    def __repr__(self) -> str:
        return (
            f"MessagesPlaceholder(variable_name={self.variable_name!r}, optional={self.optional})"
        )


class _MessageTemplate:
    """One message whose content is an f-string template."""

    def __init__(self, role: str, template: str) -> None:
        self.role = role
        self.template = template
        self.variables = template_variables(template)

    def format(self, values: dict[str, Any]) -> BaseMessage:
        content = self.template.format(**values)
        if self.role == "human":
            return HumanMessage(content)
        if self.role == "ai":
            return AIMessage(content)
        return SystemMessage(content)


_ROLES = {"human": "human", "user": "human", "ai": "ai", "assistant": "ai", "system": "system"}


class ChatPromptTemplate(BasePromptTemplate):
    """A chat prompt from message templates, fixed messages and placeholders.

    Args:
        messages: (role, template) pairs with role "system", "human"/"user" or
            "ai"/"assistant"; ("placeholder", "{name}") or ``MessagesPlaceholder``;
            message objects (kept as they are).
    """

    def __init__(self, messages: Sequence[Any]) -> None:
        self.messages: list[Any] = [self._part(m) for m in messages]
        self.partial_variables: dict[str, Any] = {}
        variables: list[str] = []
        for part in self.messages:
            names = (
                part.variables
                if isinstance(part, _MessageTemplate)
                else [part.variable_name]
                if isinstance(part, MessagesPlaceholder) and not part.optional
                else []
            )
            variables.extend(n for n in names if n not in variables)
        self.input_variables = variables

    @staticmethod
    def _part(message: Any) -> Any:
        if isinstance(message, (MessagesPlaceholder, BaseMessage)):
            return message
        if isinstance(message, (tuple, list)) and len(message) == 2:
            role, template = message
            if role == "placeholder":
                name = str(template).strip()
                if not (name.startswith("{") and name.endswith("}")):
                    raise ValueError(f"a placeholder is written as '{{name}}', got {template!r}")
                return MessagesPlaceholder(name[1:-1], optional=True)
            if role not in _ROLES:
                raise ValueError(
                    f"unknown message role {role!r}; "
                    f"expected one of: {', '.join(_ROLES)}, placeholder"
                )
            return _MessageTemplate(_ROLES[role], str(template))
        if isinstance(message, str):
            return _MessageTemplate("human", message)
        return to_message(message)

    @classmethod
    def from_messages(cls, messages: Sequence[Any]) -> ChatPromptTemplate:
        """A chat prompt from message-likes (see the class)."""
        return cls(messages)

    @classmethod
    def from_template(cls, template: str) -> ChatPromptTemplate:
        """A chat prompt of one human message template."""
        return cls([("human", template)])

    def __repr__(self) -> str:
        return (
            f"ChatPromptTemplate(input_variables={self.input_variables!r}, "
            f"messages={self.messages!r})"
        )

    def format_messages(self, **kwargs: Any) -> list[BaseMessage]:
        """The messages for these variables.

        Raises:
            KeyError: A required placeholder's variable is missing.
        """
        values = self._merged(kwargs)
        out: list[BaseMessage] = []
        for part in self.messages:
            if isinstance(part, _MessageTemplate):
                out.append(part.format(values))
            elif isinstance(part, MessagesPlaceholder):
                if part.variable_name in values:
                    out.extend(to_messages(values[part.variable_name]))
                elif not part.optional:
                    raise KeyError(f"missing messages for placeholder {part.variable_name!r}")
            else:
                out.append(part)
        return out

    def format_prompt(self, **kwargs: Any) -> ChatPromptValue:
        """The formatted prompt as a ``ChatPromptValue``."""
        return ChatPromptValue(self.format_messages(**kwargs))

    def format(self, **kwargs: Any) -> str:
        """The formatted prompt as one string."""
        return self.format_prompt(**kwargs).to_string()
