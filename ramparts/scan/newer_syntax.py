"""Python of a grammar newer than 3.11, translated through libcst into a 3.11 ``ast``.

``pyparse.parse_python`` comes here only when ``ast`` cannot read a file
(see its docstring for what the translation does and why); this module holds
everything that needs libcst, so a scan of ordinary code never imports it
(about half a second of every scan's start-up otherwise).  It imports nothing
of ours: the parser of replacement fields is handed in (``parse``), which
keeps the two modules from importing each other.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from typing import Any

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

CST_ERRORS = (cst.ParserSyntaxError, RecursionError, ValueError)

_LINE_END = re.compile(r"(?<=\n)|(?<=\r)(?!\n)")
_DOUBLED = re.compile(r"(\{\{|\}\})")
_STRINGS = tuple(getattr(cst, n) for n in ("FormattedString", "TemplatedString") if hasattr(cst, n))


def parse_module(text: str) -> cst.Module:
    """libcst's tree of ``text``; raises one of ``CST_ERRORS`` when it cannot read it."""
    return cst.parse_module(text)


def translate(
    text: str, module: cst.Module, filename: str, parse: Callable[[str], ast.Module]
) -> ast.Module:
    """The 3.11 ``ast`` of ``module``; ``parse`` reads each replacement field's text."""
    return _Translation(text, module, parse).tree(filename)


class _Translation:
    """One libcst module, rewritten into 3.11 source plus placeholders for its strings."""

    def __init__(self, text: str, module: cst.Module, parse: Callable[[str], ast.Module]) -> None:
        self.parse = parse
        self.lines = _lines(text)
        self.wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        self.pos: Any = self.wrapper.resolve(PositionProvider)
        self.edits: list[tuple[CodeRange, str]] = []  # (range, replacement)
        self.strings: dict[str, cst.CSTNode] = {}
        # short, so the code after a placeholder keeps its column; never a name of the file's
        self.prefix = "_rp"
        while self.prefix in text:
            self.prefix += "_"
        self.wrapper.module.visit(_Finder(self))

    # -- the edits ---------------------------------------------------------------------
    def slice(self, r: CodeRange) -> str:
        (l1, c1), (l2, c2) = (r.start.line, r.start.column), (r.end.line, r.end.column)
        if l1 == l2:
            return self.lines[l1 - 1][c1:c2]
        middle = "".join(self.lines[l1 : l2 - 1])
        return self.lines[l1 - 1][c1:] + middle + self.lines[l2 - 1][:c2]

    def string(self, node: cst.CSTNode) -> None:
        r = self.pos[node]
        text = self.slice(r)
        try:  # 3.11 reads it as it is: leave it alone
            ast.parse("(" + text + "\n)", mode="eval")
            return
        except (SyntaxError, ValueError):
            pass
        name = f"{self.prefix}{len(self.strings)}"
        self.strings[name] = node
        self.edits.append((r, _spanning(f"({name})", r)))

    def blank(self, r: CodeRange) -> None:
        self.edits.append((r, _blanked(self.slice(r))))

    def alias(self, node: Any) -> None:
        """``type X[T] = v`` becomes ``_ =  X    = v``: every name keeps its column."""
        keyword = CodeRange(self.pos[node].start, self.pos[node.name].start)
        if keyword.start.line != keyword.end.line:
            raise ValueError("a type alias split across lines after 'type'")
        self.edits.append((keyword, "_ =".ljust(keyword.end.column - keyword.start.column)))
        if node.type_parameters is not None:
            self.blank(self.pos[node.type_parameters])

    def source(self) -> str:
        lines = list(self.lines)
        for r, new in sorted(
            self.edits, key=lambda e: (e[0].start.line, e[0].start.column), reverse=True
        ):
            (l1, c1), (l2, c2) = (r.start.line, r.start.column), (r.end.line, r.end.column)
            joined = lines[l1 - 1][:c1] + new + lines[l2 - 1][c2:]
            lines[l1 - 1 : l2] = _lines(joined) or [""]
        return "".join(lines)

    def tree(self, filename: str) -> ast.Module:
        module = ast.parse(self.source(), filename=filename)
        if self.strings:
            module = _Swap(self).visit(module)
        return module

    # -- the strings -------------------------------------------------------------------
    def joined(self, node: cst.CSTNode) -> ast.expr:
        r = self.pos[node]
        where = self.location(r)
        values: list[ast.expr] = []
        for part in _flatten(node):
            if isinstance(part, cst.SimpleString):
                _add_text(values, ast.literal_eval(self.slice(self.pos[part])), where)
            else:
                values += self.parts(part.parts, part.prefix, part.quote, where)
        return ast.JoinedStr(values=values, **where)

    def parts(self, parts: Any, prefix: str, quote: str, where: dict[str, int]) -> list[ast.expr]:
        out: list[ast.expr] = []
        for part in parts:
            if isinstance(
                part,
                (
                    cst.FormattedStringText,
                    getattr(cst, "TemplatedStringText", cst.FormattedStringText),
                ),
            ):
                _add_text(out, _literal(part.value, prefix, quote), where)
                continue
            expr = self.expression(part.expression)
            conversion = ord(part.conversion) if part.conversion else -1
            spec = None
            if part.format_spec is not None:
                spec = ast.JoinedStr(
                    values=self.parts(part.format_spec, prefix, quote, where), **where
                )
            if getattr(part, "equal", None) is not None:
                _add_text(out, self.slice(self.pos[part])[1:].split("=", 1)[0] + "=", where)
                if conversion == -1 and spec is None:
                    conversion = ord("r")
            out.append(
                ast.FormattedValue(value=expr, conversion=conversion, format_spec=spec, **where)
            )
        return out

    def expression(self, node: cst.CSTNode) -> ast.expr:
        r = self.pos[node]
        stmt = self.parse("(" + self.slice(r) + "\n)").body[0]
        assert isinstance(stmt, ast.Expr)
        start_col = len(self.lines[r.start.line - 1][: r.start.column].encode("utf-8"))
        for sub in ast.walk(stmt.value):
            if not hasattr(sub, "lineno"):
                continue
            if sub.lineno == 1:
                sub.col_offset += start_col - 1
            if getattr(sub, "end_lineno", None) == 1 and sub.end_col_offset is not None:
                sub.end_col_offset += start_col - 1
            sub.lineno += r.start.line - 1
            if getattr(sub, "end_lineno", None) is not None:
                sub.end_lineno += r.start.line - 1
        return stmt.value

    def location(self, r: CodeRange) -> dict[str, int]:
        def col(line: int, column: int) -> int:
            return len(self.lines[line - 1][:column].encode("utf-8"))

        return {
            "lineno": r.start.line,
            "col_offset": col(r.start.line, r.start.column),
            "end_lineno": r.end.line,
            "end_col_offset": col(r.end.line, r.end.column),
        }


class _Finder(cst.CSTVisitor):
    def __init__(self, translation: _Translation) -> None:
        super().__init__()
        self.t = translation

    def visit_ConcatenatedString(self, node: cst.ConcatenatedString) -> bool:
        if any(isinstance(p, _STRINGS) for p in _flatten(node)):
            self.t.string(node)
        return False

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, _STRINGS):
            self.t.string(node)
            return False
        if isinstance(node, cst.ConcatenatedString):
            return self.visit_ConcatenatedString(node)
        if isinstance(node, cst.TypeParameters):
            return False  # blanked whole by its def or class
        params = getattr(node, "type_parameters", None)
        if isinstance(node, (cst.FunctionDef, cst.ClassDef)) and params is not None:
            self.t.blank(self.t.pos[params])
        if isinstance(node, cst.TypeAlias):
            self.t.alias(node)
            node.value.visit(self)
            return False
        return True


class _Swap(ast.NodeTransformer):
    def __init__(self, translation: _Translation) -> None:
        self.t = translation

    def visit_Name(self, node: ast.Name) -> ast.expr:
        found = self.t.strings.get(node.id)
        return self.t.joined(found) if found is not None else node


def _lines(text: str) -> list[str]:
    """Lines as Python and libcst count them: ends at \\n, \\r\\n or \\r, nothing else.

    (``str.splitlines`` also breaks at form feeds and Unicode separators, which
    would shift every line number after one.)
    """
    return [line for line in _LINE_END.split(text) if line]


def _flatten(node: cst.CSTNode) -> list[cst.CSTNode]:
    if isinstance(node, cst.ConcatenatedString):
        return _flatten(node.left) + _flatten(node.right)
    return [node]


def _spanning(name: str, r: CodeRange) -> str:
    """``name`` laid over the lines of ``r``, so the code after it keeps its place."""
    if r.start.line == r.end.line:
        return name.ljust(r.end.column - r.start.column)
    newlines = "\n" * (r.end.line - r.start.line)
    return name[:-1] + newlines + " " * max(r.end.column - 1, 0) + ")"


def _blanked(text: str) -> str:
    """Spaces for every character; a newline inside brackets becomes a continuation."""
    out = []
    for line in text.split("\n"):
        out.append(" " * len(line))
    return " \\\n".join(out) if len(out) > 1 else out[0]


def _literal(raw: str, prefix: str, quote: str) -> str:
    """The value of one literal piece of an f-string, as its prefix and quotes read it."""
    lead = "".join(ch for ch in prefix if ch in "rRbBuU")
    out = []
    for chunk in _DOUBLED.split(raw):
        if chunk in ("{{", "}}"):
            out.append(chunk[0])
            continue
        try:
            out.append(str(ast.literal_eval(lead + quote + chunk + quote)))
        except (SyntaxError, ValueError):
            out.append(chunk)
    return "".join(out)


def _add_text(values: list[ast.expr], text: str, where: dict[str, int]) -> None:
    if not text:
        return
    last = values[-1] if values else None
    if isinstance(last, ast.Constant) and isinstance(last.value, str):
        last.value += text
    else:
        values.append(ast.Constant(value=text, **where))
