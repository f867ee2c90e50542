"""Loading the KB: schema errors with file and line, references, layering."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from engine.errors import InputError, KBError
from engine.kb.loader import load_kb, load_kb_collecting

Write = Callable[[dict[str, str]], Path]


def errors_of(folder: Path) -> list[str]:
    _, problems = load_kb_collecting((folder,))
    return [p.render() for p in problems if p.severity == "error"]


def test_shipped_kb_loads_clean(kb) -> None:
    assert "saddle_anaesthesia" in kb.findings
    assert kb.conclusions["cauda_equina_syndrome"].kind == "red_flag"
    assert kb.version.startswith("imbalance-kb")


def test_unknown_finding_in_rule_has_line_and_suggestion(write_files: Write) -> None:
    folder = write_files({"rules.yaml": """
        rules:
          - id: extra_rule
            title: Test rule
            band: condition
            when:
              - saddle_anesthesia: true
            then:
              condition: sciatica
              certainty: 0.3
              because: test
            sources: [seed_000]
            evidence: low
    """})
    errors = errors_of(folder)
    assert len(errors) == 1
    assert errors[0].startswith("layer/rules.yaml:6: unknown finding 'saddle_anesthesia'") or \
        ":6: unknown finding 'saddle_anesthesia'" in errors[0]
    assert "did you mean 'saddle_anaesthesia'?" in errors[0]


def test_all_problems_in_a_file_are_collected(write_files: Write) -> None:
    folder = write_files({"bad.yaml": """
        rules:
          - id: Bad-Id
            title: x
            band: conditon
            when:
              - fever: {greater: 3}
              - runner: true
            then:
              condition: sciatica
              certainty: 1.5
              because: x
            sources: [nowhere]
            evidence: high
    """})
    errors = errors_of(folder)
    text = "\n".join(errors)
    assert ":2: id 'Bad-Id'" in text
    assert ":4: 'band' of rule 'Bad-Id' is 'conditon'" in text and "did you mean 'condition'?" in text
    assert ":6: unknown operator 'greater'" in text
    assert ":10: 'certainty' of rule 'Bad-Id' is 1.5" in text
    assert "unknown source 'nowhere'" in text
    assert len(errors) >= 5


def test_value_outside_finding_type_is_reported(write_files: Write) -> None:
    folder = write_files({"r.yaml": """
        rules:
          - id: r_numeric
            title: x
            band: cause
            when:
              - sitting_hours_per_day: {gt: 30}
              - runner: {gt: 1}
            then:
              cause: prolonged_sitting
              certainty: 0.3
              because: x
            sources: [seed_000]
            evidence: expert_opinion
    """})
    text = "\n".join(errors_of(folder))
    assert ":6: 'sitting_hours_per_day' is 30, out of range" in text
    assert ":7: 'gt' compares numbers but 'runner' is boolean" in text


def test_malformed_yaml_reports_line(write_files: Write) -> None:
    folder = write_files({"broken.yaml": "rules:\n  - id: x\n    title: [oops\n"})
    errors = errors_of(folder)
    assert errors and "broken.yaml:" in errors[0] and "malformed YAML" in errors[0]


def test_duplicate_ids_across_layers_are_refused(write_files: Write) -> None:
    folder = write_files({"dup.yaml": """
        findings:
          - id: fever
            label: Fever again
            category: symptom
            type: boolean
            question: Again?
    """})
    text = "\n".join(errors_of(folder))
    assert "duplicate id 'fever'" in text and "kb/vocabulary/symptoms.yaml" in text


def test_layer_adds_findings_and_rules(write_files: Write) -> None:
    folder = write_files({"clinic.yaml": """
        knowledge_base: {name: clinic, version: "1"}
        findings:
          - id: hot_joint
            label: Hot swollen joint
            category: examination
            type: boolean
            question: Is a joint hot and swollen?
        rules:
          - id: clinic_hot_joint
            title: A hot joint with fever may be septic
            band: red_flag
            when: [{hot_joint: true}, {fever: true}]
            then: {red_flag: spinal_infection, certainty: 0.5}
            sources: [seed_002]
            evidence: expert_opinion
    """})
    kb = load_kb((folder,))
    assert kb.rule("clinic_hot_joint") is not None
    assert "clinic 1" in kb.version


def test_disable_needs_reason_and_known_rule(write_files: Write) -> None:
    folder = write_files({"off.yaml": """
        disable:
          - rule: itbs_lateral_knee_runer
            reason: local protocol
    """})
    text = "\n".join(errors_of(folder))
    assert "cannot disable unknown rule 'itbs_lateral_knee_runer'" in text
    assert "did you mean 'itbs_lateral_knee_runner'?" in text


def test_disable_removes_rule(write_files: Write) -> None:
    folder = write_files({"off.yaml": """
        disable:
          - rule: itbs_lateral_knee_runner
            reason: Our clinic uses its own ITBS pathway.
    """})
    kb = load_kb((folder,))
    assert kb.rule("itbs_lateral_knee_runner") is None
    assert kb.disabled[0].reason.startswith("Our clinic")


def test_missing_layer_folder_is_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        load_kb((tmp_path / "nope",))


def test_strict_load_raises_with_all_errors(write_files: Write) -> None:
    folder = write_files({"x.yaml": "rules:\n  - id: a\n  - id: b\n"})
    with pytest.raises(KBError) as err:
        load_kb((folder,))
    assert len(err.value.problems) >= 2


def test_cycle_between_conclusions_is_an_error(write_files: Write) -> None:
    rule = """
          - id: {id}
            title: x
            band: condition
            when: [{{concluded: {reads}}}]
            then: {{condition: {writes}, certainty: 0.5, because: x}}
            sources: [seed_000]
            evidence: low
    """
    folder = write_files({"c.yaml": "rules:\n" + rule.format(id="c1", reads="sciatica",
                                                          writes="piriformis_syndrome")
                          + rule.format(id="c2", reads="piriformis_syndrome", writes="sciatica")})
    text = "\n".join(errors_of(folder))
    assert "cycle" in text


def test_disabling_a_rule_named_in_shipped_case_tests_still_loads(write_files: Write) -> None:
    folder = write_files({"off.yaml": """
        disable:
          - rule: ces_saddle_anaesthesia
            reason: testing that shipped case tests naming it do not break loading
    """})
    kb = load_kb((folder,))
    assert kb.rule("ces_saddle_anaesthesia") is None
    assert any("ces_saddle_anaesthesia" in t.expect.fires for t in kb.tests)


def test_kb_files_lists_rule_files_the_way_authors_expect(tmp_path: Path) -> None:
    """Nested .yaml/.yml files in path order; hidden files and folders, other suffixes, folders
    named like rule files and broken links are not rule files."""
    from engine.kb.loader import kb_files

    for rel in ("b/x.yaml", "a-b/y.yml", "a/z.yaml", ".git/h.yaml", "c/.swap.yaml", "c/notes.txt",
                "c/upper.YAML", "d.yaml/e.yaml"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("", encoding="utf-8")
    (tmp_path / "folder.yaml").mkdir()
    (tmp_path / "broken.yaml").symlink_to(tmp_path / "nowhere.yaml")
    (tmp_path / "linked.yaml").symlink_to(tmp_path / "a" / "z.yaml")
    found = [p.relative_to(tmp_path).as_posix() for p in kb_files(tmp_path)]
    assert found == ["a/z.yaml", "a-b/y.yml", "b/x.yaml", "d.yaml/e.yaml", "linked.yaml"]


def test_a_file_parsed_once_per_process_gives_the_same_kb_and_is_never_changed(
        write_files: Write, monkeypatch: pytest.MonkeyPatch) -> None:
    """engine.kb.loader.parsed keeps each file's tree for the next load in the process: the
    KB from kept trees equals the KB from fresh parses, the kept trees are not altered by
    building the model, and an edited file is parsed again."""
    from engine.kb.loader import kb_files, parsed, shipped_kb_dir
    from engine.kb.yamlsource import parse_text

    monkeypatch.setenv("IMBALANCE_NO_CACHE", "1")  # every load reads its files
    layer = write_files({"local.yaml": """
        findings:
          - id: desk_hours_local
            label: Desk hours
            category: activity
            question: How many hours a day does the patient sit at a desk?
            type: number
            unit: hours per day
            range: [0, 24]
        """})
    parsed.cache_clear()
    fresh, fresh_problems = load_kb_collecting((layer,))
    assert parsed.cache_info().misses > 30 and parsed.cache_info().hits == 0
    kept, kept_problems = load_kb_collecting((layer,))
    assert parsed.cache_info().hits == parsed.cache_info().misses  # every file from the store
    assert kept == fresh and kept_problems == fresh_problems
    for path in [*kb_files(shipped_kb_dir()), *kb_files(layer)]:
        text = path.read_text(encoding="utf-8")
        assert parsed(text) == parse_text(text), path  # the model was built without touching it
    (layer / "local.yaml").write_text((layer / "local.yaml").read_text().replace(
        "Desk hours", "Hours at a desk"))
    edited = load_kb((layer,))
    assert edited.findings["desk_hours_local"].label == "Hours at a desk"


def test_a_rule_folder_that_cannot_be_read_is_an_error_not_a_silent_gap(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """os.walk skipped a folder it could not list; its rules would have gone missing unseen.
    (Refused by a stand-in for os.scandir: the tests may run as root, who reads every folder.)"""
    import os

    from engine.kb import loader

    locked = tmp_path / "rules"
    locked.mkdir()
    (locked / "x.yaml").write_text("rules: []\n", encoding="utf-8")
    real_scandir = os.scandir

    def scandir(path: str) -> object:
        if path == str(locked):
            raise PermissionError(13, "Permission denied", path)
        return real_scandir(path)

    monkeypatch.setattr(loader.os, "scandir", scandir)
    with pytest.raises(InputError, match=r"cannot list the knowledge-base folder .*rules': "
                       r"Permission denied"):
        loader.kb_files(tmp_path)
