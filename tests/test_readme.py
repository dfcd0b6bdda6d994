"""The README's runnable examples (the code blocks after ``<!-- readme-example -->``)
run as written, each in a fresh interpreter against the embedded mock server."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
EXAMPLES = re.findall(
    r"<!-- readme-example -->\n```python\n(.*?)```", README.read_text(), flags=re.DOTALL
)


def test_the_readme_has_examples() -> None:
    assert len(EXAMPLES) >= 2


@pytest.mark.parametrize("code", EXAMPLES, ids=[f"example{i}" for i in range(len(EXAMPLES))])
def test_readme_example_runs(code: str) -> None:
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    tokens = done.stdout.split("|")
    assert len(tokens) > 10, done.stdout
    assert "Traceback" not in done.stderr
