"""Robustness: random and mutated rule files never crash, never hang, always explain themselves.

Hypothesis feeds three kinds of input to the loader and to lint: arbitrary text, a valid rule
file with small random edits (lines dropped, duplicated, swapped, re-indented, tokens replaced),
and random YAML data built from the schema's own keys. Every example must finish within a time
bound and end in problems that each name a file, a line inside it, a known check and a message.
When a mutated file still loads, its KB is compiled and its case tests run too.
"""

from __future__ import annotations

import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.inference.reasoner import Reasoner
from engine.kb import schema
from engine.kb.loader import load_layers
from engine.kb.yamlsource import YamlSyntaxError, parse_text
from engine.lint import CHECKS, lint
from engine.testing.suite import run_suite
from tests.conftest import run_cli

MINI = Path(__file__).parent / "fixtures" / "mini_kb"
VALID = (MINI / "rules.yaml").read_text() + (MINI / "tests.yaml").read_text()
VALID_LINES = VALID.splitlines()
SECONDS = 3  # per example; the loader and lint take milliseconds on these sizes

FUZZ = settings(max_examples=40, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

TOKENS = [
    "true", "false", "null", "~", "yes", "[", "]", "{", "}", ":", "- ", "-", "#", "'", '"', "&a ", "*a",
    "!!python/object:os.system", "all:", "any:", "not:", "at_least: 99", "of: []", "concluded: x",
    "1e309", "-1", "0.5", "2", "nan", ".inf", "\t", "  ", "\n", "fever", "infection", "gt: 3",
    "in: [a]", "band: red_flag", "certainty: 7", "lint: {x: }", "disable:", "rules:", "tests:",
    "<<: {a: 1}", "? complex\n: key", "%YAML 1.1\n---", "---\n", "...", "\x00", "é", "\u2028",
]


class Hang(Exception):
    pass


@contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    """Fail the example instead of hanging the suite (Unix timers; the CI runs on Linux)."""

    def stop(_signum: int, _frame: Any) -> None:
        raise Hang(f"took longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def check_file(text: str) -> None:
    """Load MINI plus a layer holding `text`, lint it, and judge every problem reported."""
    with tempfile.TemporaryDirectory() as tmp:
        layer = Path(tmp) / "layer"
        layer.mkdir()
        target = layer / "rules.yaml"
        target.write_text(text, encoding="utf-8", errors="surrogatepass")
        line_count = max(text.count("\n") + 1, len(text.splitlines()))  # YAML breaks at U+2028 too
        with time_limit(SECONDS):
            loaded = load_layers((MINI, layer))
            report = lint(loaded)
            if not loaded.errors and loaded.kb.tests:
                run_suite(loaded.kb, Reasoner(loaded.kb))
        for problem in report.problems:
            assert problem.message.strip(), problem
            assert problem.severity in ("error", "warning")
            assert problem.code in CHECKS, problem.code
            path = problem.location.path
            if path.endswith("layer/rules.yaml"):
                assert 0 <= problem.location.line <= line_count, problem.render()
            rendered = problem.render(with_severity=True)
            assert rendered.startswith(path) and "Traceback" not in rendered


def mutate(lines: list[str], edits: list[tuple[int, int, int, str]]) -> str:
    out = list(lines)
    for kind, i, j, token in edits:
        if not out:
            out.append(token)
            continue
        i %= len(out)
        j %= len(out)
        if kind == 0:
            del out[i]
        elif kind == 1:
            out.insert(j, out[i])
        elif kind == 2:
            out[i], out[j] = out[j], out[i]
        elif kind == 3:
            out[i] = " " * (j % 9) + out[i].lstrip()
        elif kind == 4:
            cut = j % (len(out[i]) + 1)
            out[i] = out[i][:cut] + token + out[i][cut:]
        else:
            words = out[i].split(" ")
            words[j % len(words)] = token
            out[i] = " ".join(words)
    return "\n".join(out) + "\n"


edits = st.lists(st.tuples(st.integers(0, 5), st.integers(0, 200), st.integers(0, 200),
                           st.sampled_from(TOKENS)), min_size=1, max_size=6)


@FUZZ
@given(edits)
def test_mutated_rule_files(changes: list[tuple[int, int, int, str]]) -> None:
    check_file(mutate(VALID_LINES, changes))


@FUZZ
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300)
       | st.lists(st.sampled_from(TOKENS), max_size=40).map("".join))
def test_random_text(text: str) -> None:
    check_file(text)


KEYS = sorted({*schema.SECTIONS, *schema.RULE_KEYS, *schema.THEN_KEYS, *schema.FINDING_KEYS,
               *schema.TEST_KEYS, *schema.EXPECT_KEYS, *schema.RESERVED, "eq", "gt", "in", "fever",
               "back_pain", "weeks", "sciatica", "id"})
scalars = st.none() | st.booleans() | st.integers(-5, 200) | st.floats(allow_nan=True) \
    | st.sampled_from(["fever", "sciatica", "condition", "red_flag", "x", "", "guide", "high"])
data = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.sampled_from(KEYS), inner, max_size=5), max_leaves=30)


@FUZZ
@given(st.dictionaries(st.sampled_from(schema.SECTIONS), data, min_size=1, max_size=3))
def test_random_structured_data(document: dict[str, Any]) -> None:
    check_file(yaml.safe_dump(document, allow_unicode=True))


@pytest.mark.parametrize(("text", "reason"), [
    ("a: &a [*a]\n", "an alias refers to the value that contains it"),  # used to recurse forever
    ("a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(  # the "billion laughs": used to hang
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(7)),
     "aliases expand this file to more than 100,000 values"),
    ("[" * 100_000 + "]" * 100_000, "nested more than the limit of 64 levels"),  # crashed the C parser
    ("a: &a " + "[" * 60 + "1" + "]" * 60 + "\nb: " + "[" * 10 + "*a" + "]" * 10 + "\n",
     "nested more than the limit of 64 levels (aliases included)"),
])
def test_yaml_bombs_are_refused_quickly(text: str, reason: str) -> None:
    with time_limit(SECONDS), pytest.raises(YamlSyntaxError) as err:
        parse_text(text)
    assert err.value.line >= 1 and err.value.reason.startswith(reason)


def test_anchors_and_aliases_repeat_a_condition() -> None:
    """The shipped KB repeats shared conditions with `&name` / `*name`; they keep their lines."""
    data = parse_text("rules:\n  - when:\n      - not: &referral\n          concluded: x\n"
                      "  - when:\n      - not: *referral\n")
    first, second = data["rules"][0]["when"][0]["not"], data["rules"][1]["when"][0]["not"]
    assert first == second == {"concluded": "x"} and second.line_of("concluded") == 4


def test_a_few_mutants_through_the_real_cli(tmp_path: Path) -> None:
    """The console script turns whatever the loader reports into lint lines, never a traceback."""
    samples = [mutate(VALID_LINES, [(4, n * 7, n * 13, TOKENS[n * 5 % len(TOKENS)])]) for n in range(4)]
    for n, text in enumerate(samples):
        folder = tmp_path / f"m{n}"
        folder.mkdir()
        (folder / "rules.yaml").write_text(text)
        proc = run_cli("--kb", str(folder), "kb", "lint")
        assert proc.returncode in (0, 1), proc.stderr
        assert "Traceback" not in proc.stdout + proc.stderr and proc.stderr == ""
        assert proc.stdout.splitlines()[-1].startswith("kb lint: ")
