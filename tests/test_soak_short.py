"""The soak (``benches/soak.py``) in short: 512 concurrent streams for 12 seconds with 5%
of them faulted, then 3,000 sequential requests through one client. No token lost or
repeated, every failed stream's tokens a prefix of its text, and memory, descriptors and
threads flat (see ``soak.check_flat``)."""

from __future__ import annotations

import json

from benches import soak


def test_short_soak() -> None:
    report = soak.soak(12.0, concurrency=512, fault_rate=0.05, sequential=3000, sample_every=2.0)
    summary = json.dumps(
        {
            "problems": report.problems,
            "first": report.concurrent_samples[1:2],
            "last": report.concurrent_samples[-1:],
        },
        default=str,
    )
    assert report.problems == [], summary
    assert report.streams > 1000
    assert report.faulted > 0
    assert report.completed + report.failed_as_expected == report.streams
    assert report.sequential == 3000
