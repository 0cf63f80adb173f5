"""YAML composed into nodes with the limits an editor's file needs, for the issue reader and the issue editor.

Aliases are refused: `*a` repeats what `&a` names, so a few lines of aliases of aliases stand for gigabytes
(the "billion laughs"), and an issue has no use for them. Nesting is bounded: the composer spends a stack
frame on each level, and an issue needs four (issue, entries, entry, conditions).
"""

from __future__ import annotations

import yaml
from yaml.composer import Composer, ComposerError
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

MAX_DEPTH = 32


class AliasRefused(ComposerError):
    """A YAML alias (`*name`): an issue may not repeat another part of itself."""


class _Limits(Composer):
    depth = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.get_event()
            raise AliasRefused(None, None, f"'*{event.anchor}' repeats another part of the file (a YAML alias), "
                                "which an issue may not do: write the text out", event.start_mark)
        if self.depth >= MAX_DEPTH:
            raise ComposerError(None, None, f"nested more than {MAX_DEPTH} levels deep", self.peek_event().start_mark)
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


class _PositionsLoader(_Limits, yaml.SafeLoader):
    """The pure-Python parser: its marks count characters, where libyaml's count bytes."""


if hasattr(yaml, "CSafeLoader"):
    class _FastLoader(_Limits, yaml.cyaml.CParser, SafeConstructor, Resolver):
        """libyaml's parser (~10x faster) under the Python composer, which is the one that can say no."""

        def __init__(self, stream):
            yaml.cyaml.CParser.__init__(self, stream)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            Composer.__init__(self)
else:  # PyYAML built without libyaml
    _FastLoader = _PositionsLoader


def compose(text: str, positions: bool = False) -> yaml.Node | None:
    """The document's node tree; YAMLError (with a mark) for bad syntax, an alias or too deep a nesting.
    `positions`: columns counted in characters, at the cost of speed."""
    loader = (_PositionsLoader if positions else _FastLoader)(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()
