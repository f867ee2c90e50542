"""`imbalance interview` end to end in a real terminal: tmux runs it, the test reads the screen
the way a clinician would and types the answers of an example case (absent findings: skip).

The driver does not know the questions in advance: it reads each question's label off the
screen, so these tests hold whatever the shipped rule base asks. Skipped when tmux is missing.
"""

from __future__ import annotations

import itertools
import os
import re
import shlex
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.cases.case import load_case
from engine.kb.loader import load_kb
from reports.interview_console import command_name
from tests.browser_support import require_program
from tests.conftest import ROOT, SCRIPT
from tests.interview_support import tick_line, typed

TIMEOUT = 20.0
_ids = itertools.count()


class Terminal:
    """One tmux server of our own (its own socket), running one command in a 110x50 pane."""

    def __init__(self, command: str, cwd: Path) -> None:
        self.socket = f"imbalance-test-{os.getpid()}-{next(_ids)}"
        env = {k: v for k, v in os.environ.items() if k != "TMUX"}
        self._tmux("-f", "/dev/null", "new-session", "-d", "-s", "t", "-x", "110", "-y", "50",
                   f"cd {shlex.quote(str(cwd))} && {command}; echo \"[exited $?]\"; sleep 300",
                   env=env)

    def _tmux(self, *args: str, env: dict[str, str] | None = None) -> str:
        proc = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True,
                              env=env, timeout=10, check=True)
        return proc.stdout

    def screen(self) -> str:
        """Everything shown so far, scrollback included, as plain text."""
        return self._tmux("capture-pane", "-p", "-J", "-S", "-", "-t", "t")

    def type(self, text: str) -> None:
        if text:
            self._tmux("send-keys", "-t", "t", "-l", text)
        self._tmux("send-keys", "-t", "t", "Enter")

    def wait_for(self, predicate: Any, what: str) -> str:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            text = self.screen()
            if predicate(text):
                return text
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}; the screen shows:\n{self.screen()}")

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=10)
        folder = Path(os.environ.get("TMUX_TMPDIR", "/tmp")) / f"tmux-{os.getuid()}"
        (folder / self.socket).unlink(missing_ok=True)


@pytest.fixture
def terminal() -> Iterator[Any]:
    require_program("tmux", "apt-get install tmux")
    opened: list[Terminal] = []

    def start(*args: str, cwd: Path = ROOT) -> Terminal:
        term = Terminal(" ".join(shlex.quote(a) for a in (str(SCRIPT), *args)), cwd)
        opened.append(term)
        return term

    yield start
    for term in opened:
        term.close()


def lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines()]


def prompts(text: str) -> int:
    """How many times the program has waited for a line so far."""
    return sum(1 for line in lines(text) if line.startswith(">") or "[Y/n]" in line or "[y/N]" in line)


def waiting(text: str, answered: int) -> bool:
    shown = [line for line in lines(text) if line.strip()]
    if shown and shown[-1].startswith("[exited"):
        return True
    if not shown or prompts(text) <= answered:
        return False
    return shown[-1] == ">" or shown[-1].endswith(("[Y/n]", "[y/N]"))


def current_label(text: str) -> str:
    rows = lines(text)
    at = max(i for i, line in enumerate(rows) if line.startswith("Question "))
    return rows[at + 1].strip()


ITEM = re.compile(r"^\s+(\d+)  (.+?)(  \(side: l, r or b\))?$")


def current_items(text: str) -> list[str]:
    """The labels of the checklist on screen, in their numbered order ([] for a plain question)."""
    rows = lines(text)
    at = max(i for i, line in enumerate(rows) if line.startswith("Question "))
    items = []
    for line in rows[at + 2:]:
        if line.strip().startswith("Answer:"):
            break
        match = ITEM.match(line)
        if match:
            assert int(match.group(1)) == len(items) + 1
            items.append(match.group(2))
    return items


def current_detail(text: str) -> str:
    """The patient detail being asked ('Patient id', 'Age', 'Sex'), or '' for a question."""
    rows = lines(text)
    heads = [i for i, line in enumerate(rows)
             if line.startswith(("Question ", DETAIL))]
    if not heads or not rows[heads[-1]].startswith(DETAIL):
        return ""
    return rows[heads[-1]][len(DETAIL):].strip()


DETAIL = "Patient details · "


def drive(term: Terminal, facts: dict[str, Any], extra: dict[int, list[str]] | None = None,
          patient_id: str = "") -> str:
    """Answer every question from `facts` until the program exits; `extra` types more lines
    (?, back) before the answer to the N-th question shown. Returns the final screen."""
    findings = load_kb().findings
    labels = {f.label: f.id for f in findings.values()}
    answered = 0
    shown_questions = 0
    while True:
        text = term.wait_for(lambda t, n=answered: waiting(t, n), f"prompt {answered + 1}")
        last = [line for line in lines(text) if line.strip()][-1]
        if last.startswith("[exited"):
            return text
        if last.endswith("[Y/n]"):
            assert "Do now:" in text
            term.type("y")
            answered += 1
            continue
        detail = current_detail(text)
        if detail:  # the patient's id, age and sex come first; Enter skips what is not known
            value = patient_id if detail == "Patient id" else facts.get(labels[detail])
            term.type("" if value in (None, "") else typed(value))
            answered += 1
            continue
        number = sum(1 for line in lines(text) if line.startswith("Question "))
        if number > shown_questions:
            shown_questions = number
            for line in (extra or {}).pop(number, []):
                term.type(line)
                answered += 1
                text = term.wait_for(lambda t, n=answered: waiting(t, n), f"reply to {line!r}")
        items = current_items(text)
        if items:
            spared = tuple(f for c in load_kb().checklists.values() for f in c.explicit_no)
            term.type(tick_line(tuple(findings[labels[label]] for label in items), facts, spared))
        else:
            fid = labels[current_label(text)]
            term.type(typed(facts[fid]) if fid in facts else "skip")
        answered += 1


def test_red_flag_case_in_a_terminal(terminal, tmp_path: Path) -> None:
    case = load_case(str(ROOT / "examples/cases/cauda_equina_emergency.yaml"), load_kb())
    out = tmp_path / "ces.yaml"
    term = terminal("interview", "--save", str(out))
    screen = drive(term, case.facts, extra={1: ["?", "? 1"]}, patient_id="EX-CES")
    rows = lines(screen)
    header = next(line for line in rows if line.startswith("Question 1 "))
    assert header.startswith("Question 1 of at most ")
    assert header.endswith("· Where it hurts: this decides which questions follow")
    second = next(line for line in rows if line.startswith("Question 2 "))
    assert "Red-flag screen: " in second
    at = next(i for i, line in enumerate(rows) if line.strip().startswith("Answer: none, or the "
                                                                           "numbers that apply"))
    assert "? why" in rows[at + 1] and "each: one at a time" in rows[at + 1]
    assert "Why this checklist (red-flag screen)? Each item can still decide:" in screen
    assert "The answer can still decide" in screen  # ? 1: the first item's full reasoning
    assert "Neurological warning signs (cauda equina, spinal cord)" in screen  # a checklist
    assert "Recorded yes: Saddle anaesthesia" in screen
    rows = lines(screen)
    # both legs charted: low concern at once; the saddle and bladder signs then escalate it
    assert any("RED FLAG [SOON] Suspected cauda equina syndrome (raised)" in line for line in rows)
    banner = next(i for i, line in enumerate(rows) if "RED FLAG [EMERGENCY] Suspected cauda equina "
                  "syndrome (now more urgent)" in line)
    assert rows[banner + 1].strip().startswith("Do now:")
    assert any(line.startswith("Go on with the interview? [Y/n] y") for line in rows[banner:])
    assert "Interview complete after" in screen and "Triage: EMERGENCY" in screen
    assert f"Saved answers to {out}." in screen and "[exited 0]" in screen
    assert load_case(str(out), load_kb()).facts.items() <= case.facts.items()


def test_benign_case_in_a_terminal_with_back(terminal, tmp_path: Path) -> None:
    kb = load_kb()
    case = load_case(str(ROOT / "examples/cases/runner_it_band.yaml"), kb)
    out = tmp_path / "runner.yaml"
    term = terminal("interview", "--save", str(out))
    first = term.wait_for(lambda t: waiting(t, 0), "the first prompt")
    assert "Patient details · Patient id" in first and "press Enter to skip" in first
    screen = drive(term, case.facts, extra={3: ["back"]}, patient_id=case.patient["id"])
    assert "Patient details · Age" in screen and "Patient details · Sex" in screen
    assert "Back to the previous question (" in screen
    assert "RED FLAG" not in screen
    assert "Triage: ROUTINE" in screen and "Iliotibial band syndrome" in screen
    assert f"  {command_name()} report {out} -o report.html" in screen
    assert "[exited 0]" in screen
    numbers = [int(line.split()[1]) for line in lines(screen) if line.startswith("Question ")]
    assert numbers[:4] == [1, 2, 3, 2]  # back re-asks question 2
    saved = load_case(str(out), kb)  # the patient block, as the reports show it
    assert saved.patient == {"id": "EX-ITB-01", "age": 29, "sex": "female"}
    # the complaint is the right knee: no SI joint, stenosis or hamstring questions
    asked = {line.strip() for line in lines(screen)}
    for label in (kb.findings[f].label for f in ("laslett_positive_count",
                                                  "leg_pain_walking_relieved_by_sitting",
                                                  "previous_hamstring_injury")):
        assert label not in asked, label


def test_replacing_a_file_asks_first_on_a_terminal(terminal, tmp_path: Path) -> None:
    out = tmp_path / "taken.yaml"
    out.write_text("findings: {fever: true}\n", encoding="utf-8")
    term = terminal("interview", "--save", str(out))
    screen = term.wait_for(lambda t: "[y/N]" in t, "the confirmation")
    assert f"'{out}' already exists. Replace it with this interview's answers? [y/N]" in screen
    term.type("n")
    screen = term.wait_for(lambda t: "[exited" in t, "the program to exit")
    assert f"error: left '{out}' unchanged" in screen and "[exited 2]" in screen
    assert out.read_text(encoding="utf-8") == "findings: {fever: true}\n"
