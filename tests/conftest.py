import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

import pytest


@pytest.fixture
def interrupt_on_call(monkeypatch):
    """`interrupt_on_call(module, name, n)`: the `n`-th call of `module.name` raises `KeyboardInterrupt` (the earlier
    ones run), as a user's Ctrl-C in the middle of a long job would."""
    def install(module, name: str, n: int):
        real, calls = getattr(module, name), []

        def failing(*args, **kwargs):
            calls.append(1)
            if len(calls) == n:
                raise KeyboardInterrupt
            return real(*args, **kwargs)
        monkeypatch.setattr(module, name, failing)
    return install
