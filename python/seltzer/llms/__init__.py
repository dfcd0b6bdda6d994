"""Provider models as Runnables: ``OpenAI`` (completions), ``ChatOpenAI``,
``ChatAnthropic``, ``ChatGemini`` and ``ChatOllama``, streamed through seltzer's Rust
decoders, with langchain-openai / langchain-anthropic's arguments."""

from seltzer.llms._secret import SecretStr
from seltzer.llms.anthropic import ChatAnthropic
from seltzer.llms.chat_model import BaseChatModel
from seltzer.llms.chat_openai import ChatOpenAI
from seltzer.llms.gemini import ChatGemini
from seltzer.llms.llm import BaseLLM
from seltzer.llms.ollama import ChatOllama
from seltzer.llms.openai import OpenAI

__all__ = [
    "BaseChatModel",
    "BaseLLM",
    "ChatAnthropic",
    "ChatGemini",
    "ChatOllama",
    "ChatOpenAI",
    "OpenAI",
    "SecretStr",
]
