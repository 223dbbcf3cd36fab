"""What every exercise check must do: pass the right answer, give the wrong one its hint, and wait for `...`."""

from __future__ import annotations


def assert_verdicts(check, right, wrong, hint: str) -> None:
    ok = check(right)
    assert ok.ok is True and ok.message.startswith("✓")
    bad = check(wrong)
    assert bad.ok is False and bad.message.startswith("✗") and hint in bad.message
    assert check(...).ok is None and "not answered yet" in check(...).message
