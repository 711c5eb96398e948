"""What an import mapped and what has no equivalent, for the terminal and the manifest.

The same list of gaps is printed (a Rich table of the mapping, then the
gaps) and written as YAML comments at the top of the new ``ramparts.yaml``,
so whoever opens the file later sees what the template asked for that
Ramparts does not do.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.console import Console
from rich.table import Table


@dataclass
class Report:
    template: str
    mapped: list[tuple[str, str, str]] = field(default_factory=list)  # (source, kind, target)
    gaps: list[str] = field(default_factory=list)  # no equivalent / dropped / to check

    def map(self, source: str, kind: str, target: str) -> None:
        self.mapped.append((source, kind, target))

    def gap(self, text: str) -> None:
        if text not in self.gaps:
            self.gaps.append(text)

    def comment_header(self, app: str) -> str:
        lines = [f"# Imported by `ramparts import` from {self.template} (app {app}).",
                 "# Review it: what the template asked for that Ramparts has no equivalent for"]
        if self.gaps:
            lines.append("# is listed here.")
            lines.append("#")
            lines.append("# No equivalent / not imported:")
            lines.extend(f"#   - {_one_line(g)}" for g in self.gaps)
        else:
            lines.append("# would be listed here; everything was mapped.")
        return "\n".join(lines) + "\n\n"

    def print(self, console: Console) -> None:
        table = Table(title=f"imported from {self.template}")
        for col in ("template", "kind", "ramparts"):
            table.add_column(col)
        for source, kind, target in self.mapped:
            table.add_row(source, kind, target)
        console.print(table)
        if self.gaps:
            console.print("[bold yellow]no equivalent / not imported:[/]")
            for g in self.gaps:
                console.print(f"  - {g}", markup=False, highlight=False)


def _one_line(text: str) -> str:
    return " ".join(text.split())
