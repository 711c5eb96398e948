"""The posture report as one self-contained HTML page with inline SVG charts.

No script, no stylesheet or font from elsewhere: the page's Content-Security-
Policy allows nothing but its own inline styles, so it can be mailed or
archived as evidence and opened offline.  Every value from the node is HTML-
escaped.  Charts: the score as a ring, findings per severity, and pass/fail
per OWASP Serverless risk.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from html import escape
from typing import Any

_COLOURS = {"critical": "#7f1d1d", "high": "#dc2626", "medium": "#d97706", "low": "#0891b2"}
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#111}
h1{margin-bottom:.2rem} .meta{color:#555;margin-top:0}
.charts{display:flex;gap:2rem;flex-wrap:wrap;align-items:flex-start}
table{border-collapse:collapse;width:100%;margin-top:1rem;font-size:.9rem}
th,td{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f4f6} .sev{color:#fff;border-radius:3px;padding:0 .3rem}
.pass{color:#15803d} .fail{color:#b91c1c}
"""


def _score_ring(score: int) -> str:
    r = 52
    circumference = 2 * math.pi * r
    filled = circumference * score / 100
    colour = "#15803d" if score >= 90 else "#d97706" if score >= 70 else "#dc2626"
    return (
        '<svg width="140" height="140" viewBox="0 0 140 140" role="img" '
        f'aria-label="posture score {score} of 100">'
        f'<circle cx="70" cy="70" r="{r}" fill="none" stroke="#e5e7eb" stroke-width="14"/>'
        f'<circle cx="70" cy="70" r="{r}" fill="none" stroke="{colour}" stroke-width="14" '
        f'stroke-dasharray="{filled:.1f} {circumference:.1f}" transform="rotate(-90 70 70)"/>'
        f'<text x="70" y="78" text-anchor="middle" font-size="30" font-weight="bold">'
        f"{score}</text></svg>"
    )


def _severity_bars(counts: dict[str, int]) -> str:
    order = ["critical", "high", "medium", "low"]
    top = max([counts.get(s, 0) for s in order] + [1])
    rows = []
    for i, sev in enumerate(order):
        n = counts.get(sev, 0)
        width = 200 * n / top
        y = 10 + i * 28
        rows.append(
            f'<text x="0" y="{y + 14}" font-size="12">{sev}</text>'
            f'<rect x="70" y="{y}" width="{width:.1f}" height="18" fill="{_COLOURS[sev]}"/>'
            f'<text x="{75 + width:.1f}" y="{y + 14}" font-size="12">{n}</text>'
        )
    return (
        '<svg width="320" height="130" viewBox="0 0 320 130" role="img" '
        'aria-label="findings per severity">' + "".join(rows) + "</svg>"
    )


def _owasp_grid(report: dict[str, Any]) -> str:
    names: dict[str, str] = report["owasp"]
    cells = []
    for i, (sas, title) in enumerate(names.items()):
        controls = [c for c in report["controls"] if sas in c["owasp"]]
        if not controls:
            fill, state = "#e5e7eb", "not covered"
        elif all(c["passed"] for c in controls):
            fill, state = "#86efac", "pass"
        else:
            fill, state = "#fca5a5", "fail"
        x, y = (i % 5) * 124, (i // 5) * 58
        cells.append(
            f"<g><title>{escape(sas)} {escape(title)}: {state}</title>"
            f'<rect x="{x}" y="{y}" width="118" height="52" rx="4" fill="{fill}"/>'
            f'<text x="{x + 6}" y="{y + 20}" font-size="13" font-weight="bold">'
            f"{escape(sas)}</text>"
            f'<text x="{x + 6}" y="{y + 40}" font-size="11">{state}</text></g>'
        )
    return (
        '<svg width="620" height="116" viewBox="0 0 620 116" role="img" '
        'aria-label="OWASP Serverless Top 10 coverage">' + "".join(cells) + "</svg>"
    )


def to_html(report: dict[str, Any]) -> str:
    when = datetime.fromtimestamp(report["generated_at"], UTC).strftime("%Y-%m-%d %H:%M UTC")
    scope = f"app {report['app']}" if report.get("app") else "every app"
    findings = (
        "".join(
            "<tr>"
            f'<td><span class="sev" style="background:{_COLOURS[f["severity"]]}">'
            f"{escape(f['severity'])}</span></td>"
            f"<td>{escape(f['rule'])}</td><td>{escape(f['title'])}</td>"
            f"<td>{escape(f.get('app') or '-')}</td><td>{escape(f['resource'])}</td>"
            f"<td>{escape(f['evidence'])}</td><td>{escape(f['remediation'])}</td>"
            "</tr>"
            for f in report["findings"]
        )
        or '<tr><td colspan="7">no findings</td></tr>'
    )
    controls = "".join(
        "<tr>"
        f"<td>{escape(c['id'])}</td><td>{escape(c['title'])}</td>"
        f"<td>{escape(c['severity'])}</td><td>{escape(c['platform_control'])}</td>"
        f"<td>{escape(', '.join(c['owasp']))}</td>"
        + (
            '<td class="pass">pass</td>'
            if c["passed"]
            else f'<td class="fail">fail ({c["findings"]})</td>'
        )
        + "</tr>"
        for c in report["controls"]
    )
    notes = "".join(f"<li>{escape(n)}</li>" for n in report["notes"])
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        f"<title>Ramparts posture audit: {report['score']}/100</title>"
        f"<style>{_STYLE}</style></head><body>"
        "<h1>Ramparts posture audit</h1>"
        f'<p class="meta">node {escape(report["node"])}, {escape(scope)}, {when}</p>'
        f'<p><strong>Score: <span id="score">{report["score"]}</span>/100</strong> '
        "(weighted by severity over every control: docs/posture-audit.md)</p>"
        f'<div class="charts">{_score_ring(report["score"])}'
        f"{_severity_bars(report['counts'])}{_owasp_grid(report)}</div>"
        "<h2>Findings</h2><table><tr><th>severity</th><th>rule</th><th>control</th>"
        "<th>app</th><th>resource</th><th>evidence</th><th>remediation</th></tr>"
        f"{findings}</table>"
        "<h2>Controls</h2><table><tr><th>id</th><th>control</th><th>severity</th>"
        "<th>platform control</th><th>OWASP Serverless</th><th>result</th></tr>"
        f"{controls}</table>"
        f"<h2>Notes</h2><ul>{notes}</ul>"
        "</body></html>\n"
    )
