"""`imbalance interview` driven through stdin, as scripts drive it: the real console script
(run_cli) and click's CliRunner, on isolated rule bases so the questions are known."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from engine.cases.case import load_case
from engine.cases.saving import SaveTarget, save
from engine.inference.reasoner import Reasoner
from engine.interview.session import Session
from engine.kb.loader import load_kb
from engine.kb.model import KnowledgeBase
from reports.interview_console import Console, Conversation, command_name
from tests.conftest import run_cli
from tests.interview_support import CLINIC, SKIP_DETAILS, isolated_layer, script_for

MINI = """
rules:
  - {id: t_ces_saddle, title: Saddle anaesthesia suggests cauda equina syndrome, band: red_flag,
     when: [{saddle_anaesthesia: true}], then: {red_flag: cauda_equina_syndrome, certainty: 0.9},
     sources: [bmj_bp_ces], evidence: high}
  - {id: t_itbs_runner, title: Lateral knee pain in a runner, band: condition,
     when: [{lateral_knee_pain: true}, {runner: true}],
     then: {condition: it_band_syndrome, certainty: 0.5, because: b,
            strengthen: [gluteus_medius]}, sources: [bmj_bp_itbs], evidence: high}
"""


@pytest.fixture(scope="module")
def mini(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(isolated_layer(tmp_path_factory.mktemp("mini") / "layer", MINI))


@pytest.fixture(scope="module")
def clinic_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(isolated_layer(tmp_path_factory.mktemp("clinic") / "layer", CLINIC))


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: str
    stderr: str


def interview(layer: str, *args: str, stdin: str = "", cwd: Path | None = None,
              details: str = SKIP_DETAILS) -> Ran:
    """In-process through click's CliRunner (fast); `real_interview` runs the console script.
    `details` answers the patient id, age and sex first (skipped unless given)."""
    if cwd is not None:
        return real_interview(layer, *args, stdin=stdin, cwd=cwd, details=details)
    stdin = details + stdin
    result = CliRunner().invoke(main, ["--kb", layer, "interview", *args], input=stdin)
    return Ran(result.exit_code, result.stdout, result.stderr)


def real_interview(layer: str, *args: str, stdin: str = "", cwd: Path | None = None,
                   details: str = SKIP_DETAILS) -> Ran:
    proc = run_cli("--kb", layer, "interview", *args, stdin=details + stdin, cwd=cwd)
    return Ran(proc.returncode, proc.stdout, proc.stderr)


def flat(text: str) -> str:
    """Output with wrapped lines joined, to check sentences whatever the terminal width."""
    return " ".join(text.split())


def questions_asked(stdout: str) -> list[str]:
    """The finding labels asked, in order (the line after each 'Question N' header)."""
    lines = stdout.splitlines()
    return [lines[i + 1].strip() for i, line in enumerate(lines) if line.startswith("Question ")]


# --- red flags and the flow --------------------------------------------------------------------


def test_red_flag_banner_and_action_at_once_then_stop(mini: str) -> None:
    proc = real_interview(mini, stdin="yes\nn\n")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    banner = out.index("RED FLAG [EMERGENCY] Suspected cauda equina syndrome (raised)")
    assert out.index("> yes") < banner < out.index("Do now: Send the patient") \
        < out.index("Go on with the interview? [Y/n] n")
    assert questions_asked(out) == ["Saddle anaesthesia"]
    assert "Interview stopped at the red flag after 1 question.\nUp to 2 more could still " \
           "change the assessment. Assessment so far:" in out
    assert "Triage: EMERGENCY" in out and "does not diagnose" in out
    assert "These answers were not saved" in out


def test_red_flag_then_go_on_to_the_end(mini: str) -> None:
    proc = interview(mini, stdin="yes\n\nright\nyes\n")
    assert proc.returncode == 0, proc.stderr
    assert questions_asked(proc.stdout) == ["Saddle anaesthesia", "Lateral knee pain", "Runner"]
    assert "Go on with the interview? [Y/n] \n" in proc.stdout  # Enter means go on
    assert "Interview complete after 3 questions" in proc.stdout
    tail = proc.stdout[proc.stdout.index("Interview complete"):]
    assert tail.index("RED FLAG") < tail.index("Iliotibial band syndrome")


def test_go_on_prompt_insists_on_yes_or_no(mini: str) -> None:
    proc = interview(mini, stdin="yes\nperhaps\nn\n")
    assert "Please answer y (go on), n (stop here and show the assessment) or back." in proc.stdout
    assert "Interview stopped at the red flag" in proc.stdout


def test_back_at_the_red_flag_revises_the_answer_that_raised_it(mini: str) -> None:
    proc = interview(mini, stdin="yes\nback\nno\nno\n")
    out = proc.stdout
    assert "Back to the previous question (Saddle anaesthesia; the answer was: yes)." in out
    assert questions_asked(out) == ["Saddle anaesthesia", "Saddle anaesthesia", "Lateral knee pain"]
    assert "Interview complete after 2 questions" in out
    assert "Triage: ROUTINE" in out  # the banner was shown, but the flag is gone


def test_benign_case_to_the_end_with_report_hint(mini: str, tmp_path: Path) -> None:
    out = tmp_path / "runner.yaml"
    proc = real_interview(mini, "--save", str(out), "--patient-id", "P-1", stdin="no\nright\nyes\n")
    assert proc.returncode == 0, proc.stderr
    assert questions_asked(proc.stdout) == ["Saddle anaesthesia", "Lateral knee pain", "Runner"]
    assert "Question 1 of at most 3 · Red-flag screen: suspected cauda equina syndrome" in proc.stdout
    assert "Question 2 of at most 3 · Assessment: checking iliotibial band syndrome\n" in proc.stdout
    assert "Interview complete after 3 questions.\nNo further answer could change the triage, " \
           "a red flag or a condition." in proc.stdout
    assert "Triage: ROUTINE" in proc.stdout and "Iliotibial band syndrome" in proc.stdout
    assert f"Saved answers to {out}.\nMake the HTML report with:\n" \
           f"  {command_name()} report {out} -o report.html\n" in proc.stdout
    assert "RED FLAG" not in proc.stdout
    saved = out.read_text(encoding="utf-8")
    assert "patient:\n  id: \"P-1\"\n" in saved
    assert "lateral_knee_pain: \"right\"" in saved and "saddle_anaesthesia: false" in saved


def test_piped_output_reads_like_a_transcript(mini: str) -> None:
    proc = real_interview(mini, stdin="maybe\nno\n?\nright\nyes\n")
    assert "\x1b[" not in proc.stdout  # no colour codes off a terminal
    answers = [line for line in proc.stdout.splitlines() if line.startswith(">")]
    assert answers == ["> "] * 3 + ["> maybe", "> no", "> ?", "> right", "> yes"]  # id, age, sex skipped
    assert not re.search(r">\s*>", proc.stdout)  # never two prompts on one line


def test_invalid_answers_are_asked_again_with_a_hint(mini: str) -> None:
    proc = interview(mini, stdin="maybe\n42\n\nno\nup\nright\nyes\n")
    assert proc.returncode == 0 and "Traceback" not in proc.stderr
    assert proc.stdout.count("Not understood: answer yes or no (or skip).") == 2
    assert "Not understood: type an answer (yes or no), or skip." in proc.stdout
    assert "Not understood: answer yes, no, left, right or bilateral (or skip)." in proc.stdout
    assert "Interview complete after 3 questions" in proc.stdout


def test_question_mark_explains_why(mini: str) -> None:
    proc = interview(mini, stdin="no\n?\nquit\n")
    out = flat(proc.stdout)
    assert 'Why ask about "Lateral knee pain"?' in out
    assert "The answer can still decide 1 rule:" in out
    assert "- Lateral knee pain in a runner would support" in out and "[t_itbs_runner]" not in out
    assert "would support the condition Iliotibial band syndrome (certainty 0.5, not yet suggested)" in out
    assert "when: all of: Lateral knee pain ?; Runner ?" in out
    assert "'no' rules it out" in out


def test_why_during_the_screen_names_the_red_flag(mini: str) -> None:
    out = flat(interview(mini, stdin="?\nquit\n").stdout)
    assert 'Why ask about "Saddle anaesthesia" (red-flag screen)?' in out
    assert "would raise the red flag Suspected cauda equina syndrome (emergency), certainty 0.9" in out
    assert "'yes' makes it fire now; 'no' rules it out" in out


def test_help_lists_the_commands(mini: str) -> None:
    out = interview(mini, stdin="help\nquit\n").stdout
    assert "skip   not known; the finding stays unknown (not the same as 'no')" in out


def test_back_revises_the_previous_answer(mini: str) -> None:
    proc = interview(mini, stdin="back\nno\nback\nyes\nn\n")
    out = proc.stdout
    assert "Nothing to go back to: this is the first question of this interview." in out
    assert "Back to the previous question (Saddle anaesthesia; the answer was: no)." in out
    assert questions_asked(out) == ["Saddle anaesthesia", "Lateral knee pain", "Saddle anaesthesia"]
    assert "RED FLAG [EMERGENCY]" in out and "Triage: EMERGENCY" in out


def test_skip_keeps_a_finding_unknown(mini: str) -> None:
    proc = interview(mini, stdin="skip\nskip\n")
    # a skipped gate closes the ITBS rule: runner is never asked
    assert questions_asked(proc.stdout) == ["Saddle anaesthesia", "Lateral knee pain"]
    assert "Interview complete after 2 questions" in proc.stdout
    assert "Triage: ROUTINE" in proc.stdout


def test_numbers_take_their_unit_and_range(clinic_dir: str, tmp_path: Path) -> None:
    kb = load_kb((clinic_dir,))
    facts = {"saddle_anaesthesia": False, "low_back_pain": True, "history_of_cancer": False,
             "night_pain": True, "age": 67, "sitting_hours_per_day": 9}
    lines, asked = script_for(kb, facts)
    at = asked.index("age")
    lines[at] = "67 years"
    lines.insert(at, "170")  # out of range: asked again
    proc = interview(clinic_dir, stdin="\n".join(lines) + "\n", details="")
    assert "Answer: a number from 0 to 120 years" in proc.stdout
    assert "Not understood: 170 is out of range; answer a number from 0 to 120 years" in proc.stdout
    assert "Triage: SOON" in proc.stdout


# --- the same assessment as assess, whatever the answers -------------------------------------


@pytest.mark.parametrize("facts", [
    {"saddle_anaesthesia": True, "low_back_pain": True, "leg_pain_below_knee": "bilateral"},
    {"low_back_pain": True, "history_of_cancer": True, "progressive_neurological_deficit": True},
    {"lateral_knee_pain": "left", "runner": True, "positive_noble_test": True,
     "weak_hip_abductors": True, "mileage_increase_pct": 25, "saddle_anaesthesia": False},
    {"anterior_pelvic_tilt": True, "positive_thomas_test": True, "forward_head_posture": True,
     "rounded_shoulders": True, "sex": "female", "lateral_hip_pain": True, "neck_pain": True},
])
@pytest.mark.parametrize("thorough", [False, True])
def test_piped_interview_matches_assess(clinic_dir: str, tmp_path: Path, facts, thorough: bool) -> None:
    """By default the triage, red flags and conditions match assess on the full case; with
    --thorough every part of the assessment matches. (Each case's conditions present at a site
    it marks: a condition out of site is not pursued, see the test below.)"""
    kb = load_kb((clinic_dir,))
    lines, _ = script_for(kb, facts, thorough)
    out = tmp_path / "case.yaml"
    flags = ["--thorough"] if thorough else []
    proc = interview(clinic_dir, "--save", str(out), *flags, stdin="\n".join(lines) + "\n", details="")
    assert proc.returncode == 0, proc.stderr
    assert "Interview complete" in proc.stdout
    patient = {k: facts[k] for k in ("age", "sex") if k in facts}
    findings = {k: v for k, v in facts.items() if k not in patient}
    full = tmp_path / "full.json"
    full.write_text(json.dumps({"patient": patient, "findings": findings}), encoding="utf-8")
    runner = CliRunner()
    expected = json.loads(runner.invoke(main, ["--kb", clinic_dir, "assess", str(full), "--format",
                                               "json"]).stdout)
    got = json.loads(runner.invoke(main, ["--kb", clinic_dir, "assess", str(out), "--format",
                                          "json"]).stdout)
    keys = ["triage", "red_flags", "conditions"]
    if thorough:
        keys += ["causes", "muscles", "fired_rules"]
    for key in keys:
        assert got[key] == expected[key], key


# --- saving, resuming, refusing ----------------------------------------------------------------


def test_quit_saves_what_was_answered(mini: str, tmp_path: Path) -> None:
    out = tmp_path / "partial.yaml"
    proc = interview(mini, "--save", str(out), stdin="skip\nquit\n")
    assert proc.returncode == 0
    assert "Interview stopped after 1 question.\nUp to 2 more could still change the " \
           "assessment. Assessment so far:" in proc.stdout
    text = out.read_text(encoding="utf-8")
    assert "saddle_anaesthesia: null" in text  # asked, not known
    kb = load_kb((mini,))
    assert load_case(str(out), kb).facts == {}


def test_end_of_input_saves_too(mini: str, tmp_path: Path) -> None:
    out = tmp_path / "partial.yaml"
    proc = interview(mini, "--save", str(out), stdin="no\n")
    assert proc.returncode == 0
    assert "> (end of input)" in proc.stdout and "Input ended after 1 question" in proc.stdout
    assert "saddle_anaesthesia: false" in out.read_text(encoding="utf-8")


def test_resume_asks_only_what_is_missing(mini: str, tmp_path: Path) -> None:
    case = tmp_path / "visit.yaml"
    case.write_text("description: First visit\npatient: {id: P-9, age: 30}\nfindings:\n"
                    "  saddle_anaesthesia: false\n  lateral_knee_pain: right\n", encoding="utf-8")
    proc = interview(mini, str(case), stdin="yes\n")
    assert proc.returncode == 0, proc.stderr
    assert f"Resuming {case}: 3 findings already known" in proc.stdout
    assert questions_asked(proc.stdout) == ["Runner"]
    assert "Patient: P-9, 30 y" in proc.stdout
    assert f"These answers were not saved: add --save {case} to keep them." in proc.stdout
    assert f"  {command_name()} report {case} -o report.html" in proc.stdout
    assert "runner" not in case.read_text(encoding="utf-8")  # nothing written without --save


def test_resume_of_a_complete_case_asks_nothing(mini: str, tmp_path: Path) -> None:
    case = tmp_path / "done.yaml"
    case.write_text("findings: {saddle_anaesthesia: false, lateral_knee_pain: false}\n",
                    encoding="utf-8")
    proc = interview(mini, str(case))
    assert "Nothing left to ask" in proc.stdout and questions_asked(proc.stdout) == []
    assert f"Make the HTML report with:\n  {command_name()} report {case} -o report.html" in proc.stdout


def test_resume_and_save_to_the_same_file_updates_it(mini: str, tmp_path: Path) -> None:
    case = tmp_path / "visit.yaml"
    case.write_text("# first visit\ndescription: Knee pain\npatient: {id: P-9}\nfindings:\n"
                    "  saddle_anaesthesia: false\n  lateral_knee_pain: right\n"
                    "expect: {triage: routine}\n", encoding="utf-8")
    proc = real_interview(mini, str(case), "--save", str(case), stdin="yes\n")
    assert proc.returncode == 0, proc.stderr
    assert f"Updated {case}." in proc.stdout
    kb = load_kb((mini,))
    again = load_case(str(case), kb)
    assert again.facts == {"saddle_anaesthesia": False, "lateral_knee_pain": "right", "runner": True}
    assert again.description == "Knee pain" and again.expect == {"triage": "routine"}
    assert again.patient == {"id": "P-9"}
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary file left behind


def test_existing_save_file_is_refused_off_a_terminal(mini: str, tmp_path: Path) -> None:
    out = tmp_path / "taken.yaml"
    out.write_text("findings: {fever: true}\n", encoding="utf-8")
    proc = real_interview(mini, "--save", str(out), stdin="no\n")
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"error: --save '{out}' already exists; not replacing it without "
                                  "confirmation (pass --force to replace it")
    assert proc.stdout == ""  # refused before any question
    assert out.read_text(encoding="utf-8") == "findings: {fever: true}\n"


def test_force_replaces_an_existing_save_file(mini: str, tmp_path: Path) -> None:
    out = tmp_path / "taken.yaml"
    out.write_text("findings: {fever: true}\n", encoding="utf-8")
    proc = interview(mini, "--save", str(out), "--force", stdin="no\nno\n")
    assert proc.returncode == 0, proc.stderr
    assert "fever" not in out.read_text(encoding="utf-8")
    assert "lateral_knee_pain: false" in out.read_text(encoding="utf-8")


@pytest.mark.parametrize(("args", "message"), [
    (("--save", "out.json"), "the interview writes YAML case files (use a name ending in .yaml"),
    (("--save", "no/such/folder/out.yaml"), "folder 'no/such/folder' does not exist"),
    (("--save", "."), "the interview writes YAML case files"),
    (("-",), "CASE cannot be '-' for an interview: stdin carries the answers"),
    (("missing.yaml",), "case file 'missing.yaml' does not exist"),
])
def test_bad_arguments_exit_2_before_any_question(mini: str, tmp_path: Path, args, message) -> None:
    proc = interview(mini, *args, stdin="no\n", cwd=tmp_path)
    assert proc.returncode == 2
    assert message in proc.stderr and proc.stderr.startswith("error: ")
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_malformed_case_to_resume_names_file_and_line(mini: str, tmp_path: Path) -> None:
    case = tmp_path / "bad.yaml"
    case.write_text("findings:\n  saddle_anesthesia: true\n", encoding="utf-8")
    proc = real_interview(mini, str(case))
    assert proc.returncode == 2
    assert f"{case}:2: unknown finding 'saddle_anesthesia' (did you mean 'saddle_anaesthesia'?)" \
        in proc.stderr


def test_file_changed_during_the_interview_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "case.yaml"
    target = SaveTarget(path, None)  # did not exist when the interview began
    path.write_text("findings: {fever: true}\n", encoding="utf-8")  # someone else wrote it
    written, as_asked = save(target, "findings: {}\n")
    assert not as_asked and written == tmp_path / "case.interview-1.yaml"
    assert path.read_text(encoding="utf-8") == "findings: {fever: true}\n"
    assert written.read_text(encoding="utf-8") == "findings: {}\n"
    replaced, ok = save(SaveTarget(path, "findings: {fever: true}\n"), "findings: {}\n")
    assert ok and replaced == path and path.read_text(encoding="utf-8") == "findings: {}\n"


class _Interrupting(Console):
    """A console whose user presses Ctrl-C at the second question."""

    def __init__(self) -> None:
        self.interactive = False
        self.calls = 0

    def ask(self, prompt: str = "> ") -> str | None:
        self.calls += 1
        if self.calls == 2:
            raise KeyboardInterrupt
        return "no"


def test_ctrl_c_saves_what_was_answered(mini: str, tmp_path: Path, capsys) -> None:
    kb: KnowledgeBase = load_kb((mini,))
    out = tmp_path / "partial.yaml"
    session = Session.start(kb, Reasoner(kb))
    code = Conversation(_Interrupting(), session, SaveTarget(out, None), "").run()
    assert code == 130
    assert "Interrupted after 1 answer." in capsys.readouterr().out
    assert load_case(str(out), kb).facts == {"saddle_anaesthesia": False}


# --- CliRunner: the same logic in-process ------------------------------------------------------


def test_cli_runner_drives_the_interview(mini: str, tmp_path: Path) -> None:
    out = tmp_path / "case.yaml"
    result = CliRunner().invoke(main, ["--kb", mini, "interview", "--save", str(out)],
                                input=SKIP_DETAILS + "no\nleft\nno\n")
    assert result.exit_code == 0, result.output
    assert "Interview complete after 3 questions" in result.output
    assert "Conditions to consider\n    none suggested" in result.output
    assert load_case(str(out), load_kb((mini,))).facts == {
        "saddle_anaesthesia": False, "lateral_knee_pain": "left", "runner": False}


def test_cli_runner_help_documents_case_and_save() -> None:
    result = CliRunner().invoke(main, ["interview", "--help"])
    assert result.exit_code == 0
    assert "--save CASE" in result.output and "resume and update" in result.output


def test_a_failed_save_prints_the_answers_instead(mini: str, tmp_path: Path, capsys,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import reports.interview_ending as command

    def disk_full(target, text):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(command, "save", disk_full)
    kb: KnowledgeBase = load_kb((mini,))
    session = Session.start(kb, Reasoner(kb))
    code = Conversation(_Interrupting(), session, SaveTarget(tmp_path / "x.yaml", None), "").run()
    captured = capsys.readouterr()
    assert code == 130
    assert "error: cannot save to" in captured.err and "No space left on device" in captured.err
    assert captured.out.rstrip().endswith("findings:\n  saddle_anaesthesia: false")


def test_urgent_flag_is_shown_at_once_without_stopping(clinic_dir: str) -> None:
    kb = load_kb((clinic_dir,))
    lines, _ = script_for(kb, {"saddle_anaesthesia": False, "low_back_pain": True,
                               "history_of_cancer": True})
    proc = interview(clinic_dir, stdin="\n".join(lines) + "\n", details="")
    out = proc.stdout
    assert "RED FLAG [URGENT] Possible spinal malignancy (raised)" in out
    assert "Go on with the interview?" not in out
    banner = out.index("RED FLAG [URGENT]")
    assert "Do now: Refer for urgent medical assessment" in out[banner:]
    assert out.index("Question", banner) > banner  # the interview simply goes on
    assert "Interview complete" in out and "Triage: URGENT" in out
