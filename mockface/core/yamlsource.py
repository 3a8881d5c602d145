"""YAML (and JSON) documents that remember the line of every mapping key and list item.

``load(text)`` returns plain-looking dicts and lists (subclasses) whose ``line`` is where they
start and whose ``line_of(key_or_index)`` is where an entry starts, 1-based, for messages of
the form ``file:line: problem``.  It refuses what a hostile document could do to the
reader: a repeated key (silently last-wins in plain YAML), aliases that expand to more than
MAX_NODES nodes (a "billion laughs" bomb), nesting deep enough to exhaust the stack.
``show(value)`` is how any value from a document may appear in a message: short and bounded.

``load(text, known_keys=...)`` is for files that may be anything (``--config /etc/shadow``): until
a document has shown itself to be of the expected kind (a mapping with one of ``known_keys``
at its top level), a syntax error is a ForeignDocument, whose message quotes none of the text.
"""
from __future__ import annotations

import reprlib
from collections.abc import Collection
from typing import Any

import yaml

MAX_NODES = 100_000  # nodes of a document with every alias expanded
SHOWN = 80  # characters of a value shown in a message
_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = SHOWN
_REPR.maxlevel = 1


def show(value: Any) -> str:
    """A value for a message: collections only by kind and size (their content may be a
    secret or a whole file), scalars as a repr clipped to SHOWN characters."""
    if isinstance(value, dict):
        return f"a mapping ({len(value)} key{'' if len(value) == 1 else 's'})"
    if isinstance(value, list):
        return f"a list ({len(value)} item{'' if len(value) == 1 else 's'})"
    text = _REPR.repr(value)
    return text if len(text) <= SHOWN else text[:SHOWN - 3] + "..."


class LocatedDict(dict):
    line: int = 0
    key_lines: dict

    def line_of(self, key: Any) -> int:
        return self.key_lines.get(key, self.line)


class LocatedList(list):
    line: int = 0
    item_lines: list

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if 0 <= index < len(self.item_lines) else self.line


class _Loader(yaml.SafeLoader):
    """A safe loader that records line numbers on mappings and sequences."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LocatedDict:
    loader.flatten_mapping(node)
    result = LocatedDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a scalar", key_node.start_mark) from None
        if key in result:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {show(key)} (first on line "
                            f"{result.key_lines[key]})", key_node.start_mark)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LocatedList:
    result = LocatedList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


class ForeignDocument(yaml.YAMLError):
    """A document that failed to parse before it showed itself to be of the expected kind:
    ``line`` says where it failed; its ``problem`` and message quote none of the text."""

    def __init__(self, line: int) -> None:
        self.line = line
        self.problem = "no known top-level key before the error, so none of the text is shown"
        super().__init__(self.problem)


def load(text: str, known_keys: Collection[str] | None = None) -> Any:
    """Parse one YAML or JSON document; raises yaml.YAMLError with a line on bad syntax, a
    repeated key, excessive alias expansion or excessive nesting.

    With ``known_keys``, the error is a ForeignDocument (the line, no text) unless one of
    them is a top-level key of the document's parsed part (before the error)."""
    try:
        return _load(text)
    except yaml.YAMLError as error:
        if known_keys is None or top_level_keys(text) & set(known_keys):
            raise
        raise ForeignDocument(line_of_error(error)) from None


def _load(text: str) -> Any:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node, {}) > MAX_NODES:
            raise yaml.composer.ComposerError(
                None, None, f"the document expands to more than {MAX_NODES} nodes "
                            "(aliases repeating anchors)", node.start_mark)
        return loader.construct_document(node)
    except RecursionError:
        raise yaml.YAMLError("the document is nested too deeply") from None
    finally:
        loader.dispose()


def top_level_keys(text: str) -> set[str]:
    """The plain scalar keys of the first document's top-level mapping, as far as the text
    parses (up to its first syntax error; none when the top level is not a mapping)."""
    keys: set[str] = set()
    depth = 0
    at_key = False  # the next top-level item is a key (not a value)
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.DocumentEndEvent):
                break
            if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
                continue
            if not isinstance(event, yaml.NodeEvent):  # scalars, aliases, collections
                continue
            if depth == 0:
                if not isinstance(event, yaml.MappingStartEvent):
                    return keys
                at_key = True
            elif depth == 1:
                if at_key and isinstance(event, yaml.ScalarEvent):
                    keys.add(event.value)
                at_key = not at_key
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
    except (yaml.YAMLError, RecursionError):
        pass
    return keys


def _expanded_size(node: yaml.Node, memo: dict[int, int]) -> int:
    """How many nodes ``node`` stands for with every alias expanded (aliases share the
    anchored node object, so a memo keeps this linear in the text)."""
    known = memo.get(id(node))
    if known is not None:
        return known
    size = 1
    if isinstance(node, yaml.SequenceNode):
        for child in node.value:
            size += _expanded_size(child, memo)
            if size > MAX_NODES:
                break
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            size += _expanded_size(key, memo) + _expanded_size(value, memo)
            if size > MAX_NODES:
                break
    memo[id(node)] = size
    return size


def line_of_error(error: yaml.YAMLError) -> int:
    """The 1-based line a YAML syntax error points at (1 when unknown)."""
    if isinstance(error, ForeignDocument):
        return error.line
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    return mark.line + 1 if mark is not None else 1
