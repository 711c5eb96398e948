"""Python source of any grammar libcst reads, as a 3.11 ``ast`` with the original lines.

The node runs Python 3.11, whose ``ast`` cannot read PEP 701 f-strings
(same quotes nested, backslashes or comments in a replacement field), PEP 695
type parameters and aliases, or PEP 750 template strings.  Skipping such a file
would pass code nobody checked, so ``parse_python`` falls back to libcst,
whose grammar is newer, and turns its tree into the ``ast.Module`` bandit and
the taint engine walk:

* a type alias ``type X[T] = v`` becomes ``_ = X = v`` and the ``[T]`` of a
  generic ``def``/``class`` is blanked, so every other token keeps its line
  and column;
* an f-string (or t-string) 3.11 cannot read is replaced by a placeholder name
  spanning the same lines, the file is parsed by ``ast``, and the placeholder
  is swapped for a ``JoinedStr`` built from libcst's parts, each replacement
  field parsed (recursively, through this same function) at its own line and
  column.

Nothing is dropped: a construct this translation does not cover fails the
parse, and the gate reports the file as unparsable (RP-G001, high).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass


class Unparsable(Exception):
    """No grammar we have reads the text; ``reason`` says where and why."""

    def __init__(self, reason: str, line: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line


@dataclass
class Parsed:
    tree: ast.Module
    newer_grammar: bool  # read through libcst: syntax newer than this Python's


def parse_python(text: str, filename: str = "<unknown>") -> Parsed:
    """Parse ``text``; ``Unparsable`` when neither ``ast`` nor libcst can read it."""
    try:
        return Parsed(ast.parse(text, filename=filename), False)
    except (SyntaxError, ValueError) as exc:
        first = exc
    except (RecursionError, MemoryError) as exc:
        # CPython's parser ran out of stack (a very long operator chain or very deep
        # nesting): libcst would recurse deeper still, so the file is unparsable here.
        raise Unparsable(
            "nested too deeply for Python's parser to read "
            f"({exc.__class__.__name__}: {str(exc).splitlines()[0] if str(exc) else 'no detail'})"
            "; split the expression or generated code into smaller pieces", 1) from None
    # libcst costs about half a second to import: only files 3.11 cannot read pay for it
    from ramparts.scan import newer_syntax

    try:
        module = newer_syntax.parse_module(text)
    except newer_syntax.CST_ERRORS as exc:
        line = getattr(first, "lineno", None) or getattr(exc, "raw_line", 1) or 1
        msg = getattr(first, "msg", str(first))
        theirs = str(getattr(exc, "message", exc)).splitlines()[0]
        raise Unparsable(
            f"line {line}: {msg} (Python 3.11), and not valid in any grammar libcst "
            f"reads either: {theirs}", int(line)) from None
    try:
        return Parsed(newer_syntax.translate(text, module, filename, _expression), True)
    except Unparsable:
        raise
    except Exception as exc:  # noqa: BLE001 - fail closed: reported as unparsable, never skipped
        line = getattr(exc, "lineno", None) or 1
        raise Unparsable(
            f"line {line}: newer Python syntax that could not be translated for analysis "
            f"({getattr(exc, 'msg', exc.__class__.__name__)})", int(line)) from None


def _expression(source: str) -> ast.Module:
    """A replacement field's text, parsed through this same function (it may be newer too)."""
    return parse_python(source).tree
