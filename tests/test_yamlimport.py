"""The cheap printable-character pattern given to PyYAML (engine.kb.yamlimport) finds exactly the
characters PyYAML's own does, and PyYAML still refuses them."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from engine.kb import yamlimport
from engine.kb.yamlsource import YamlSyntaxError, parse_text

EVERY_CODE_POINT = "".join(map(chr, range(sys.maxunicode + 1)))


def test_the_two_patterns_find_the_same_code_points() -> None:
    theirs = [m.start() for m in re.compile(yamlimport.PYYAML_PATTERN).finditer(EVERY_CODE_POINT)]
    ours = [m.start() for m in re.compile(yamlimport.NON_PRINTABLE).finditer(EVERY_CODE_POINT)]
    assert ours == theirs
    assert len(ours) == 2111  # 29 C0 + 1 DEL + 31 C1 + 2048 surrogates + 2 non-characters


def test_pyyaml_still_writes_the_pattern_this_module_replaces() -> None:
    """A PyYAML that changed its pattern would only make the seed miss (slower, not wrong); this
    says so, so the module is updated or removed."""
    import yaml.reader

    source = Path(yaml.reader.__file__).read_text(encoding="utf-8")
    written = re.search(r"NON_PRINTABLE = re\.compile\('(.*)'\)", source)
    assert written is not None
    assert written.group(1).encode().decode("unicode_escape") == yamlimport.PYYAML_PATTERN


def test_a_fresh_process_uses_the_cheap_pattern() -> None:
    probe = ("import engine.kb.yamlsource, yaml.reader, engine.kb.yamlimport as y; "
             "print(yaml.reader.Reader.NON_PRINTABLE.pattern == y.NON_PRINTABLE)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


@pytest.mark.parametrize("char", ["\x07", "\x1b", "\x9f", "\ufffe"])
def test_pyyaml_still_refuses_non_printable_characters(char: str) -> None:
    import yaml

    with pytest.raises(yaml.reader.ReaderError):
        yaml.SafeLoader(f"a: b{char}")
    with pytest.raises(YamlSyntaxError):
        parse_text(f"a: b{char}\n")
