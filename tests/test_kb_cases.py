"""Every case test written beside the rules in `kb/tests/` runs as one pytest item.

The same runner (`engine.testing.casetests.run_case_test`) backs `imbalance kb test`, so a case means
the same thing in both places. A test marked `todo` records a known gap: it is expected to fail
and does not break the build.
"""

from __future__ import annotations

import pytest

from engine.inference.reasoner import Reasoner
from engine.kb.loader import load_kb
from engine.kb.model import CaseTest
from engine.testing.casetests import run_case_test

CASES = load_kb().tests


def _param(test: CaseTest) -> object:
    marks = [pytest.mark.xfail(reason=f"todo: {test.todo}", strict=False)] if test.todo else []
    return pytest.param(test, id=f"{test.location.path.rsplit('/', 1)[-1]}:{test.name}", marks=marks)


def test_the_kb_has_case_tests() -> None:
    assert len(CASES) >= 100


@pytest.mark.parametrize("case", [_param(t) for t in CASES])
def test_kb_case(case: CaseTest, reasoner: Reasoner) -> None:
    outcome = run_case_test(reasoner, case)
    assert outcome.passed, f"{case.location}: {case.name}\n  " + "\n  ".join(outcome.failures)
