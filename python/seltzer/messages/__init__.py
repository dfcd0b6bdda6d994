"""Messages, prompt values and generations with LangChain's class and field names,
without LangChain: what the models take and yield and what ``astream_events`` carries."""

from seltzer.messages.base import BaseMessage, BaseMessageChunk
from seltzer.messages.convert import to_message, to_messages, to_prompt_value
from seltzer.messages.kinds import (
    AIMessage,
    AIMessageChunk,
    ChatMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from seltzer.messages.outputs import (
    ChatGeneration,
    ChatGenerationChunk,
    Generation,
    GenerationChunk,
    LLMResult,
)
from seltzer.messages.prompt_values import ChatPromptValue, PromptValue, StringPromptValue

__all__ = [
    "AIMessage",
    "AIMessageChunk",
    "BaseMessage",
    "BaseMessageChunk",
    "ChatGeneration",
    "ChatGenerationChunk",
    "ChatMessage",
    "ChatPromptValue",
    "Generation",
    "GenerationChunk",
    "HumanMessage",
    "LLMResult",
    "PromptValue",
    "StringPromptValue",
    "SystemMessage",
    "ToolMessage",
    "to_message",
    "to_messages",
    "to_prompt_value",
]
