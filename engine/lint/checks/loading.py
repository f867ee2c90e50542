"""Checks judged while the KB loads (schema, references, cycles). Their problems stop the KB
from loading, so they cannot be switched off; they are listed so every id shown is documented.
The loader, schema and reference checker emit problems with these ids as their `code`."""

from __future__ import annotations

from engine.lint.base import Check


class Yaml(Check):
    id = "yaml"
    description = ("The file is not well-formed YAML (or not UTF-8, or an alias loops or expands "
                   "too far, or nesting is deeper than 64).")
    severity = "error"
    stage = "load"


class Schema(Check):
    id = "schema"
    description = ("An entry does not fit the schema: unknown or missing key, wrong kind of value, "
                   "bad id, unknown operator or band.")
    severity = "error"
    stage = "load"


class DuplicateId(Check):
    id = "duplicate_id"
    description = "Two entries of one kind share an id, in one folder or across layers."
    severity = "error"
    stage = "load"


class UnknownReference(Check):
    id = "unknown_reference"
    description = ("A rule, recommendation, case test or disable entry names a finding, conclusion, "
                   "muscle, recommendation, source or rule that does not exist (with did-you-mean).")
    severity = "error"
    stage = "load"


class TypeMismatch(Check):
    id = "type_mismatch"
    description = "An operator does not fit the finding's type, e.g. 'gt' on a yes/no finding."
    severity = "error"
    stage = "load"


class ValueOutOfType(Check):
    id = "value_out_of_type"
    description = "A value lies outside its finding's type or range, e.g. 'age: {gt: 200}'."
    severity = "error"
    stage = "load"


class KindMismatch(Check):
    id = "kind_mismatch"
    description = "A rule concludes an id of another kind, e.g. 'condition: overuse' (a cause)."
    severity = "error"
    stage = "load"


class CertaintyRange(Check):
    id = "certainty_range"
    description = "A certainty or min_certainty lies outside 0..1."
    severity = "error"
    stage = "load"


class Cycle(Check):
    id = "cycle"
    description = "Conclusions depend on each other in a cycle through 'concluded:'."
    severity = "error"
    stage = "load"


class Justification(Check):
    id = "justification"
    description = "A rule concluding a condition or cause has no one-line 'because'."
    severity = "error"
    stage = "load"


class MissingAction(Check):
    id = "missing_action"
    description = "A red flag does not say what to do now ('action')."
    severity = "error"
    stage = "load"


class ClusterSize(Check):
    id = "cluster_size"
    description = "'at_least: N' asks for more items than it lists, or lists more than 12."
    severity = "error"
    stage = "load"


class TooComplex(Check):
    id = "too_complex"
    description = "A condition expands into more than 256 alternatives; split the rule."
    severity = "error"
    stage = "load"


class ReservedWord(Check):
    id = "reserved_word"
    description = "A finding is named after a word of the rule language (all, any, not, ...)."
    severity = "error"
    stage = "load"


class EmptyFile(Check):
    id = "empty_file"
    description = "A .yaml file in a knowledge-base folder is empty."
    severity = "warning"
    stage = "load"


class EmptyLayer(Check):
    id = "empty_layer"
    description = "A folder passed with --kb holds no .yaml files."
    severity = "warning"
    stage = "load"
