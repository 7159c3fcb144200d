"""One crash-test fork server (tests/reliability/crashkit.py) for the crash and concurrency tests."""

from __future__ import annotations

import pytest

from tests.reliability.crashkit import Zygote


@pytest.fixture(scope="session")
def zygote():
    z = Zygote()
    yield z
    z.close()
