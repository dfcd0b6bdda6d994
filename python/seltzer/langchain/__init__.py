"""LangChain models backed by seltzer: subclasses of langchain-core's ``BaseChatModel``
and ``BaseLLM`` that take langchain-openai's and langchain-anthropic's arguments and
stream through seltzer's Rust transport and decoders. Use them in any chain, agent or
graph; only the import changes::

    from seltzer.langchain import ChatOpenAI   # was: from langchain_openai import ChatOpenAI

Requests, retries and the conversion of decoded tokens into message chunks are those of
``seltzer.llms``: one implementation behind two front doors.
"""

try:
    import langchain_core  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        'seltzer.langchain needs langchain-core: pip install "seltzer[langchain]"'
    ) from exc

from seltzer.langchain.chat_anthropic import ChatAnthropic
from seltzer.langchain.chat_openai import ChatOpenAI
from seltzer.langchain.openai import OpenAI

__all__ = ["ChatAnthropic", "ChatOpenAI", "OpenAI"]
