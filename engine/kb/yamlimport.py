"""PyYAML imported about 6 ms faster: its printable-character check, written the cheap way round.

`yaml.reader.Reader` compiles, while `yaml` is imported, a negated character class spanning all
of Unicode to find characters YAML does not allow. Python's regex compiler takes about 7 ms
over that class, some 7% of an `imbalance assess` start, and every command that reads a case
file imports PyYAML. The same set written as what it contains (control characters, the
surrogates and U+FFFE/U+FFFF: nothing above U+FFFF) compiles in under 1 ms.

`re.compile` looks a pattern up in the `re` module's cache of compiled patterns, keyed by
(type, pattern text, flags), before compiling it. `seed()` puts the cheap pattern there under
PyYAML's text, so PyYAML's own `re.compile` returns it. Both match exactly the same code
points (tests/test_yamlimport.py tries all 1,114,112). If a later PyYAML changes its pattern, or
a later Python its cache, the lookup simply misses and PyYAML compiles its own: slower, never
different. Hand-written because it is about our start-up; nothing in PyYAML is changed.
"""

from __future__ import annotations

import re
import sys

# yaml/reader.py, Reader.NON_PRINTABLE (PyYAML 5.1 to 6.0.x): what YAML 1.1 does not allow
PYYAML_PATTERN = "[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD\U00010000-\U0010ffff]"
# the same set, listed: C0 controls but tab, LF and CR; DEL and C1 controls but NEL; the
# surrogates; the two non-characters U+FFFE and U+FFFF
NON_PRINTABLE = "[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x84\x86-\x9F\uD800-\uDFFF\uFFFE\uFFFF]"


def seed() -> None:
    """Make PyYAML's `re.compile(PYYAML_PATTERN)` return the cheap pattern (before `import yaml`;
    does nothing once yaml is imported)."""
    if "yaml" in sys.modules:
        return
    cache = getattr(re, "_cache", None)
    if isinstance(cache, dict):
        cache.setdefault((str, PYYAML_PATTERN, 0), re.compile(NON_PRINTABLE))


seed()

import yaml  # noqa: E402  (after the seed, which is the point of this module)

__all__ = ["NON_PRINTABLE", "PYYAML_PATTERN", "seed", "yaml"]
