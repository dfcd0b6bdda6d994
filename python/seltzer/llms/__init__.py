"""Provider models as Runnables: ``OpenAI`` (completions), ``ChatOpenAI``,
``ChatAnthropic``, ``ChatGemini`` and ``ChatOllama``, streamed through seltzer's Rust
decoders, with langchain-openai / langchain-anthropic's arguments.

Many streams on one event loop: the models spread stream starts and the handling of
answer heads over loop turns (``_pacing``), so that neither stalls the loop, and an
open stream keeps about 40 objects alive for the garbage collector (its task's, httpx's
request and response, its run). What they cannot bound is a full collection, which
traces every object of the process: with a 100,000-object application and 1,000
streams open it stops the loop for 30-100 ms. An application that must not stall that
long can call ``gc.freeze()`` once its startup is done (the objects then alive are
never traced again; 1,000 open streams then cost a full collection about 10 ms), or
raise ``gc.set_threshold``; seltzer leaves the collector's settings to the
application."""

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
