"""The Runnable layer: LangChain's composition and streaming interface (invoke, batch,
stream, astream, astream_events, ``|``) without LangChain."""

from seltzer.runnables.base import Runnable
from seltzer.runnables.binding import RunnableBinding
from seltzer.runnables.callbacks import CallbackManager, RunManager
from seltzer.runnables.config import RunnableConfig, ensure_config, patch_config
from seltzer.runnables.function import RunnableLambda
from seltzer.runnables.parsers import (
    BaseOutputParser,
    JsonOutputParser,
    OutputParserException,
    StrOutputParser,
)
from seltzer.runnables.prompts import ChatPromptTemplate, MessagesPlaceholder, PromptTemplate
from seltzer.runnables.sequence import RunnableSequence

__all__ = [
    "BaseOutputParser",
    "CallbackManager",
    "ChatPromptTemplate",
    "JsonOutputParser",
    "MessagesPlaceholder",
    "OutputParserException",
    "PromptTemplate",
    "RunManager",
    "Runnable",
    "RunnableBinding",
    "RunnableConfig",
    "RunnableLambda",
    "RunnableSequence",
    "StrOutputParser",
    "ensure_config",
    "patch_config",
]
