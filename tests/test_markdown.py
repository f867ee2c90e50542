"""`assess --format markdown` says what the HTML report says, from the same document."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest
from markupsafe import escape

from engine.cases.case import Case, load_case
from engine.inference.reasoner import Reasoner
from engine.kb.loader import load_kb
from reports.html import render_html
from reports.markdown import md, render_document, render_markdown
from tests.conftest import ROOT, run_cli
from tests.report_fixtures import EPOCH, FULL, GENERATED, PARTIAL, case_yaml, example, write_layer

EXAMPLES = sorted((ROOT / "examples" / "cases").glob("*.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_markdown_has_the_same_content_as_json(path: Path) -> None:
    result, doc = example(str(path))
    out = render_document(doc)
    data = result.to_dict()
    assert f"**Triage: {data['triage'].upper()}**" in out
    if data["red_flags"]:
        # wording and urgency agree: "RED FLAG" only where the patient is referred
        expected = "> **RED FLAG" if data["triage"] in ("emergency", "urgent") else "> **Warning sign"
        assert out.startswith(expected)
        for flag in data["red_flags"]:
            assert out.index(md(flag["label"])) < out.index("# Muscle imbalance assessment")
    else:
        assert out.startswith("# Muscle imbalance assessment")
    positions = [out.index(f"**{md(item['label'])}**") for item in data["conditions"]]
    assert positions == sorted(positions)  # highest certainty first
    for item in (*data["conditions"], *data["causes"]):
        assert f"{item['certainty']:.2f}" in out
    for rule in data["fired_rules"]:
        assert f"`{rule}`" in out
    for section in ("## Patient and findings", "## Conditions to consider", "## Muscles to stretch",
                    "## Recommendations", "## Reasoning graph", "## How each conclusion was reached",
                    "## What if", "## References", "## About this report"):
        assert section in out
    assert md(data["kb_version"]) in out and "does not diagnose" in out
    assert GENERATED in out


def test_cli_markdown_is_the_same_text() -> None:
    path = EXAMPLES[0]
    proc = run_cli("assess", str(path), "--format", "markdown", env=EPOCH)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == render_document(example(str(path))[1])


def test_markdown_and_html_come_from_one_document(kb, reasoner) -> None:
    path = EXAMPLES[0]
    result = reasoner.assess(load_case(str(path), kb))
    assert render_markdown(result, reasoner, GENERATED) == render_document(example(str(path))[1])
    for path in EXAMPLES:
        doc = example(str(path))[1]
        text = render_document(doc)
        page = render_html(doc)
        refs = re.findall(r"^(\d+)\. (.+?)(?: \*\(.*\)\*)?$",
                          text.split("## References")[1].split("##")[0], re.M)
        assert [(int(n), c) for n, c in refs] == [(r.number, md(r.citation)) for r in doc.references]
        html_refs = re.findall(r'<li id="ref-(\d+)">(.*?)(?: <span class="tag">|</li>)', page)
        assert [(int(n), unescape(c)) for n, c in html_refs] == \
            [(r.number, r.citation) for r in doc.references]  # same list, same order, in both
        for flag in doc.red_flags:
            assert md(flag.label) in text and str(escape(flag.label)) in page
        assert len(re.findall(r"^- .* → ", text.split("## Reasoning graph")[1].split("##")[0], re.M)) \
            == doc.graph_summary.firings


def test_free_text_is_escaped() -> None:
    case = '{"patient": {"id": "<script>alert(1)</script> *x* | y"}, "findings": {"fever": true}}'
    proc = run_cli("assess", "-", "--format", "markdown", stdin=case)
    assert proc.returncode == 0, proc.stderr
    assert "<script>" not in proc.stdout
    assert "&lt;script&gt;alert(1)&lt;/script&gt; \\*x\\* \\| y" in proc.stdout


def test_layer_case_why_not_and_what_if(tmp_path: Path) -> None:
    layer = write_layer(tmp_path / "layer")
    kb2 = load_kb((layer,))
    reasoner2 = Reasoner(kb2)
    text = render_markdown(reasoner2.assess(Case("t", {}, dict(PARTIAL))), reasoner2, "now")
    assert "## Why not: the nearest misses" in text
    assert "*satisfied*: Test sign A (answer: yes)" in text
    assert "*unknown*: Test sign B (not asked)" in text
    assert "**Asking about test alarm symptom** (if yes) could change: triage routine → urgent" in text
    full = render_markdown(reasoner2.assess(Case("t", {}, dict(FULL))), reasoner2, "now")
    psoas = kb2.muscles["iliopsoas"]
    assert f"| {md(psoas.label)} | {md(psoas.region or '-')} | Stretch | Test condition |" in full
    assert "uses: Test condition (certainty 0.60" in full
    case = tmp_path / "case.yaml"
    case.write_text(case_yaml(FULL), encoding="utf-8")
    proc = run_cli("--kb", str(layer), "assess", str(case), "--format", "markdown")
    assert proc.returncode == 0 and "Test chained condition" in proc.stdout
