"""Issue 16.4 and 16.6: project config, rule lifecycle, scaffolds, and messages at the right line.

Everything runs through the real console script in a scratch project folder, as an author
would type it; `--kb` is never needed once `imbalance.toml` names the layer.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest

from engine.kb.config import load_config
from engine.kb.loader import load_layers, shipped_kb_dir
from engine.lint import lint
from tests.conftest import run_cli

LAYER = """
knowledge_base: {name: my-clinic, version: "1"}
findings:
  - id: kicking_sport
    label: Plays a kicking sport
    category: activity
    type: boolean
    question: Do you play a kicking sport?
conditions:
  - {id: kicker_groin_pain, label: Kicker's groin pain}
sources:
  - {id: clinic_protocol, citation: Our protocol, level: expert_opinion}
rules:
  - id: kicker_rule
    title: A kicking sport with groin pain
    band: condition
    status: stable
    reviewed_by: Dr A. Author
    reviewed_on: 2020-01-15
    when:
      - kicking_sport: true
      - low_back_pain: true
    then:
      condition: kicker_groin_pain
      certainty: 0.4
      because: Our audit.
    sources: [clinic_protocol]
    evidence: expert_opinion
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "my_clinic").mkdir()
    (tmp_path / "my_clinic" / "rules.yaml").write_text(textwrap.dedent(LAYER).lstrip())
    (tmp_path / "case.yaml").write_text("findings:\n  kicking_sport: true\n  low_back_pain: true\n")
    return tmp_path


def test_without_config_the_error_names_the_layer_to_add(project: Path) -> None:
    result = run_cli("assess", "case.yaml", cwd=project)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "case.yaml:2: unknown finding 'kicking_sport'" in result.stderr
    assert "add '--kb my_clinic'" in result.stderr and "my_clinic/rules.yaml:3" in result.stderr


def test_config_found_upward_names_the_default_layers(project: Path) -> None:
    (project / "imbalance.toml").write_text('[kb]\nlayers = ["my_clinic"]\n')
    (project / "visits").mkdir()
    (project / "visits" / "case.yaml").write_text((project / "case.yaml").read_text())
    result = run_cli("assess", "case.yaml", "--format", "json", cwd=project / "visits")
    assert result.returncode == 0, result.stderr
    assert '"kicker_groin_pain"' in result.stdout and "my-clinic 1" in result.stdout
    # --kb naming the same folder again is not an error; --no-config ignores the file
    again = run_cli("--kb", "../my_clinic", "assess", "case.yaml", cwd=project / "visits")
    assert again.returncode == 0, again.stderr
    ignored = run_cli("--no-config", "assess", "case.yaml", cwd=project / "visits")
    assert ignored.returncode == 2 and "--kb" in ignored.stderr


def test_environment_variable_replaces_the_file(project: Path) -> None:
    (project / "imbalance.toml").write_text('[kb]\nlayers = []\n')
    result = run_cli("assess", "case.yaml", cwd=project, env={"IMBALANCE_KB": "my_clinic"})
    assert result.returncode == 0, result.stderr
    bad = run_cli("assess", "case.yaml", cwd=project, env={"IMBALANCE_KB": "nowhere"})
    assert bad.returncode == 2 and "IMBALANCE_KB names 'nowhere'" in bad.stderr


@pytest.mark.parametrize(("text", "expected"), [
    ('[kb]\nlayer = ["my_clinic"]\n',
     "imbalance.toml:2: unknown key 'layer' in [kb] (did you mean 'layers'?)"),
    ('[kb]\nlayers = ["my_clinc"]\n', "imbalance.toml:2: layer 'my_clinc' is not a folder"),
    ('[kb\nlayers = []\n', "imbalance.toml:1: malformed TOML"),
    ('[lint]\nreview_interval_days = "a year"\n', "imbalance.toml:2: review_interval_days is 'a year'"),
    ('[rules]\n', "imbalance.toml:1: unknown section [rules]"),
])
def test_config_mistakes_are_one_line_at_the_key(project: Path, text: str, expected: str) -> None:
    (project / "imbalance.toml").write_text(text)
    result = run_cli("assess", "case.yaml", cwd=project)
    assert result.returncode == 2
    assert expected in result.stderr and result.stderr.count("\n") == 1


def test_load_config_reads_the_review_interval(project: Path) -> None:
    (project / "imbalance.toml").write_text('[kb]\nlayers = ["my_clinic"]\n[lint]\n'
                                            'review_interval_days = 365\n')
    config = load_config(project, environ={})
    assert config.review_days == 365 and Path(config.layers[0]).name == "my_clinic"


def test_overdue_review_and_deprecated_rule_in_use(project: Path) -> None:
    layer = project / "my_clinic"
    (layer / "more.yaml").write_text(textwrap.dedent("""
        conditions:
          - {id: kicker_followup, label: Kicker follow-up}
        rules:
          - id: kicker_old_rule
            title: The old kicking rule
            band: condition
            status: deprecated
            when:
              - kicking_sport: true
            then:
              condition: kicker_followup
              certainty: 0.2
              because: Old audit.
            sources: [clinic_protocol]
            evidence: expert_opinion
          - id: kicker_reads_old
            title: Reads the old conclusion
            band: condition
            when:
              - concluded: kicker_followup
            then:
              condition: kicker_groin_pain
              certainty: 0.1
              because: Chained.
            sources: [clinic_protocol]
            evidence: expert_opinion
        tests:
          - name: the old rule still fires
            findings: {kicking_sport: true}
            expect:
              fires: [kicker_old_rule]
        """).lstrip())
    loaded = load_layers((shipped_kb_dir(), layer))
    report = lint(loaded, only={"overdue_review", "deprecated_in_use"}, today=dt.date(2026, 6, 1))
    lines = "\n".join(report.lines())
    assert "rules.yaml:18: warning: rule 'kicker_rule' was last reviewed by Dr A. Author on " \
           "2020-01-15" in lines and "[overdue_review]" in lines
    assert "deprecated rule 'kicker_old_rule' is still expected to fire by case test" in lines
    assert "rule 'kicker_reads_old' reads 'kicker_followup', which only deprecated rule" in lines
    relaxed = lint(loaded, only={"overdue_review"}, review_days=10_000, today=dt.date(2026, 6, 1))
    assert "overdue_review" not in "\n".join(relaxed.lines())
    cli = run_cli("--kb", "my_clinic", "kb", "lint", "--review-days", "100000", cwd=project)
    assert "overdue_review" not in cli.stdout


def test_bad_review_date_and_status_at_their_lines(project: Path) -> None:
    rules = project / "my_clinic" / "rules.yaml"
    rules.write_text(rules.read_text().replace("reviewed_on: 2020-01-15", "reviewed_on: 15/01/2020")
                     .replace("status: stable", "status: stabel"))
    result = run_cli("--kb", "my_clinic", "kb", "lint", cwd=project)
    assert "rules.yaml:16: error: 'status' of rule 'kicker_rule' is 'stabel'" in result.stdout
    assert "(did you mean 'stable'?)" in result.stdout
    assert "rules.yaml:18: error: 'reviewed_on' of rule 'kicker_rule' is '15/01/2020'" in result.stdout


def test_unknown_muscle_is_reported_at_the_strengthen_line(project: Path) -> None:
    rules = project / "my_clinic" / "rules.yaml"
    rules.write_text(rules.read_text().replace("      because: Our audit.\n",
                                               "      because: Our audit.\n"
                                               "      strengthen: [hip_adductorz]\n"))
    result = run_cli("--kb", "my_clinic", "kb", "lint", cwd=project)
    assert "rules.yaml:26: error: unknown muscle 'hip_adductorz'" in result.stdout


@pytest.mark.parametrize(("text", "expected"), [
    ("rules:\n  - id: x\n    title: y\n   band: condition\n",
     "x.yaml:4: error: malformed YAML: 'band' is indented 3 spaces, which matches no key above it"),
    ("rules:\n  - id: x\n    title: y\n      band: condition\n",
     "x.yaml:4: error: malformed YAML: 'band' is indented 6 spaces"),
    ("rules:\n  - id: x\n\ttitle: y\n", "x.yaml:3: error: malformed YAML: a tab in the indentation"),
])
def test_bad_indent_is_explained(project: Path, text: str, expected: str) -> None:
    (project / "my_clinic" / "x.yaml").write_text(text)
    result = run_cli("--kb", "my_clinic", "kb", "lint", cwd=project)
    assert expected in result.stdout, result.stdout
    assert "did not find expected" not in result.stdout and "mapping values" not in result.stdout


def test_kb_new_scaffolds_load_and_lint(project: Path) -> None:
    layer = project / "my_clinic"
    finding = run_cli("--kb", "my_clinic", "kb", "new", "finding", "squeeze_test_pain", "--category",
                      "examination", cwd=project)
    assert finding.returncode == 0 and "type: boolean" in finding.stdout
    made = run_cli("--kb", "my_clinic", "kb", "new", "rule", "kicker_new_rule", "--when",
                   "kicking_sport", "--concludes", "kicker_groin_pain", "--source",
                   "clinic_protocol", "-o", "my_clinic/new_rule.yaml", cwd=project)
    assert made.returncode == 0, made.stderr
    text = (layer / "new_rule.yaml").read_text()
    assert "status: experimental" in text and "reviewed_on: " in text
    loaded = load_layers((shipped_kb_dir(), layer))
    assert not loaded.errors, [p.render() for p in loaded.errors]
    rule = loaded.kb.rule("kicker_new_rule")
    assert rule is not None and rule.status == "experimental" and rule.concludes == "kicker_groin_pain"
    again = run_cli("--kb", "my_clinic", "kb", "new", "rule", "kicker_new_rule", cwd=project)
    assert again.returncode == 2 and "already exists" in again.stderr
    typo = run_cli("--kb", "my_clinic", "kb", "new", "rule", "other", "--when", "kicking_sprt",
                   cwd=project)
    assert typo.returncode == 2 and "did you mean 'kicking_sport'?" in typo.stderr
    clobber = run_cli("--kb", "my_clinic", "kb", "new", "condition", "kicker_x", "-o",
                      "my_clinic/new_rule.yaml", cwd=project)
    assert clobber.returncode == 2 and (layer / "new_rule.yaml").read_text() == text


def test_show_and_explain_name_the_layer_too(project: Path) -> None:
    shown = run_cli("kb", "show", "kicker_groin_pain", cwd=project)
    assert shown.returncode == 2 and "add '--kb my_clinic'" in shown.stderr
    explained = run_cli("explain", "case.yaml", "kicker_groin_pain", cwd=project)
    assert explained.returncode == 2, explained.stderr
    assert "add '--kb my_clinic'" in explained.stderr or "kicking_sport" in explained.stderr
