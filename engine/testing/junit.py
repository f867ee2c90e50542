"""`kb test --junit FILE`: the case tests as JUnit XML, which CI servers (GitLab, Jenkins,
GitHub test reporters) show test by test.

The format has no formal standard; we write the common subset every reader accepts: one
`<testsuite>` per test file, a `<testcase>` per case test with `classname` = the file and
`file`/`line` attributes, `<failure>` for FAIL (each expected-versus-actual line), `<skipped>`
for SKIP and TODO (a known gap is not a failure), and XPASS as a pass with a note in
`<system-out>`. Built with the standard library's ElementTree, which escapes for us.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict

from engine.testing.suite import SuiteReport, TestResult


def junit_xml(report: SuiteReport, seconds: float, name: str = "imbalance kb test") -> str:
    by_file: dict[str, list[TestResult]] = defaultdict(list)
    for result in report.results:
        by_file[result.test.location.path].append(result)
    root = ET.Element("testsuites", name=name, tests=str(len(report.results)),
                      failures=str(report.count("fail")),
                      skipped=str(report.count("skip") + report.count("todo")),
                      time=f"{seconds:.3f}")
    share = seconds / len(report.results) if report.results else 0.0
    for path, results in by_file.items():
        suite = ET.SubElement(root, "testsuite", name=path, tests=str(len(results)),
                              failures=str(sum(r.status == "fail" for r in results)),
                              skipped=str(sum(r.status in ("skip", "todo") for r in results)),
                              errors="0", time=f"{share * len(results):.3f}")
        for result in results:
            case = ET.SubElement(suite, "testcase", name=result.test.name, classname=path,
                                 file=path, line=str(result.test.location.line),
                                 time=f"{share:.3f}")
            if result.status == "fail":
                lines = [f"{d.location}: {d.key}: expected {d.expected}; actual {d.actual}"
                         for d in result.differences] or list(result.failures)
                failure = ET.SubElement(case, "failure", message=lines[0] if lines else "failed",
                                        type="expectation")
                failure.text = "\n".join(lines)
            elif result.status in ("skip", "todo"):
                word = "known gap" if result.status == "todo" else "skipped"
                ET.SubElement(case, "skipped", message=f"{word}: {result.reason}")
            elif result.status == "xpass":
                out = ET.SubElement(case, "system-out")
                out.text = f"passes now; remove its 'todo' ({result.reason})"
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
