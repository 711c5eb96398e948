"""Bandit through ``ramparts.scan.sast`` (its Python API, no subprocess) on ``corpus/sast``.

The whole corpus is one tree, scanned once, as the gate does; each file's
findings are compared exactly by bandit test id (our rule id for bandit
findings) and line, so a missing finding and a false positive both fail.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ramparts.scan import sast
from ramparts.scan.findings import Finding, Severity
from ramparts.scan.source import load_tree

CORPUS = Path(__file__).parent / "corpus" / "sast"

EXPECTED: dict[str, set[tuple[str, int]]] = {
    "tmp_scratch_safe.py": set(),  # /tmp is a function's own scratch space: B108 is off
    "weak_hash_vuln.py": {("B324", 8)},
    "weak_hash_safe.py": set(),
    "weak_hash_etag_safe.py": {("B324", 8)},
    "shell_guarded_safe.py": {("B404", 6), ("B605", 16), ("B602", 17), ("B605", 18),
                              ("B602", 19)},
    "shell_proven_safe.py": {("B404", 6), ("B602", 16), ("B605", 18), ("B605", 22),
                             ("B602", 26), ("B605", 29), ("B602", 44), ("B605", 45),
                             ("B605", 56)},
    "shell_unproven_vuln.py": {("B404", 7), ("B602", 15), ("B605", 20), ("B605", 21),
                               ("B605", 22), ("B605", 24), ("B605", 27), ("B602", 30),
                               ("B605", 33), ("B605", 37), ("B605", 38), ("B605", 39),
                               ("B605", 40), ("B605", 41), ("B605", 45), ("B605", 46),
                               ("B605", 60), ("B605", 63), ("B605", 68), ("B602", 81)},
    "yaml_load_vuln.py": {("B506", 7)},
    "yaml_load_safe.py": set(),
    "requests_tls_vuln.py": {("B501", 7), ("B113", 8)},
    "requests_tls_safe.py": set(),
    "shell_vuln.py": {("B403", 3), ("B404", 4), ("B602", 9), ("B301", 10)},
    # B404/B603/B607 are on again at calibrated severities (see SEVERITIES)
    "shell_safe.py": {("B404", 4), ("B603", 9), ("B607", 9)},
    "shell_constant_safe.py": {("B404", 4), ("B602", 10), ("B602", 11), ("B605", 12),
                               ("B603", 13)},
    "shell_argv_vuln.py": {("B404", 3), ("B603", 8)},
    "shell_quoted_safe.py": {("B404", 5), ("B602", 11), ("B605", 12), ("B602", 13),
                             ("B602", 14)},
    "sql_params_safe.py": set(),  # values bound; only constants and placeholders spliced in
    "sql_format_vuln.py": {("B608", 7), ("B608", 8)},
    "eval_exec_vuln.py": {("B307", 5), ("B102", 6)},
}

# calibrated severities: (file, rule, line) -> severity the gate judges by
SEVERITIES = {
    ("shell_vuln.py", "B602", 9): Severity.HIGH,  # built at run time, through a shell
    # safe, but built through names, helpers or guards: nothing is lowered through names
    # (the taint proof that did was withdrawn after two adversarial reviews got past it)
    ("shell_guarded_safe.py", "B605", 16): Severity.HIGH,  # a re.fullmatch guard
    ("shell_proven_safe.py", "B602", 16): Severity.HIGH,  # shlex.quote through locals
    ("shell_proven_safe.py", "B605", 18): Severity.HIGH,  # str(uuid.UUID(...))
    ("shell_proven_safe.py", "B605", 22): Severity.HIGH,  # a module-level set
    ("shell_proven_safe.py", "B602", 26): Severity.HIGH,  # a compiled fullmatch pattern
    ("shell_proven_safe.py", "B605", 29): Severity.HIGH,  # isdigit()
    ("shell_proven_safe.py", "B602", 44): Severity.HIGH,  # quoted by a helper
    ("shell_proven_safe.py", "B605", 45): Severity.HIGH,  # a helper's guard
    ("shell_proven_safe.py", "B605", 56): Severity.HIGH,  # a frozenset allowlist
    # the backstop: what nothing shows safe keeps bandit's high
    ("shell_unproven_vuln.py", "B602", 15): Severity.HIGH,  # a helper's parameter
    ("shell_unproven_vuln.py", "B605", 20): Severity.HIGH,  # an app call not followed
    ("shell_unproven_vuln.py", "B605", 21): Severity.HIGH,  # a configured global
    ("shell_unproven_vuln.py", "B605", 22): Severity.HIGH,  # os.getenv
    ("shell_unproven_vuln.py", "B605", 24): Severity.HIGH,  # one part quoted, one raw
    ("shell_unproven_vuln.py", "B605", 27): Severity.HIGH,  # a guard that does not stop
    ("shell_unproven_vuln.py", "B602", 30): Severity.HIGH,  # reassigned in one branch
    ("shell_unproven_vuln.py", "B605", 33): Severity.HIGH,  # a closure's value
    # a quoted word then sliced, stripped, re-quoted by %r/!r/json.dumps or cut short
    ("shell_unproven_vuln.py", "B605", 37): Severity.HIGH,
    ("shell_unproven_vuln.py", "B605", 38): Severity.HIGH,
    ("shell_unproven_vuln.py", "B605", 39): Severity.HIGH,
    ("shell_unproven_vuln.py", "B605", 40): Severity.HIGH,
    ("shell_unproven_vuln.py", "B605", 41): Severity.HIGH,
    ("shell_unproven_vuln.py", "B605", 45): Severity.HIGH,  # shlex.quote spliced with %r
    ("shell_unproven_vuln.py", "B605", 46): Severity.HIGH,  # ... or a precision
    ("shell_unproven_vuln.py", "B605", 60): Severity.HIGH,  # a list filled via an alias
    ("shell_unproven_vuln.py", "B605", 63): Severity.HIGH,  # ... or by a helper
    ("shell_unproven_vuln.py", "B605", 68): Severity.HIGH,  # a module list changed elsewhere
    ("shell_unproven_vuln.py", "B602", 81): Severity.HIGH,  # a "constant" list changed elsewhere
    ("shell_guarded_safe.py", "B602", 17): Severity.MEDIUM,  # shlex.join quotes, in place
    ("shell_guarded_safe.py", "B605", 18): Severity.HIGH,  # f-string of module constants
    ("shell_guarded_safe.py", "B602", 19): Severity.HIGH,  # " ".join of constants
    ("weak_hash_vuln.py", "B324", 8): Severity.HIGH,  # md5 of a password
    ("weak_hash_etag_safe.py", "B324", 8): Severity.LOW,  # md5 as an ETag
    ("shell_safe.py", "B603", 9): Severity.MEDIUM,  # no shell, an argument chosen at run time
    ("shell_argv_vuln.py", "B603", 8): Severity.MEDIUM,
    ("shell_constant_safe.py", "B602", 10): Severity.HIGH,  # constant, but through a name
    ("shell_constant_safe.py", "B602", 11): Severity.LOW,  # concatenated literals at the call
    ("shell_constant_safe.py", "B605", 12): Severity.HIGH,
    ("shell_constant_safe.py", "B603", 13): Severity.LOW,
    # quoted in place: no shell injection; argument injection stays possible, as B603
    ("shell_quoted_safe.py", "B602", 11): Severity.MEDIUM,  # shlex.quote of the request value
    ("shell_quoted_safe.py", "B605", 12): Severity.MEDIUM,  # quote imported from shlex
    ("shell_quoted_safe.py", "B602", 13): Severity.MEDIUM,  # int() of it
    ("shell_quoted_safe.py", "B602", 14): Severity.HIGH,  # the same value unquoted
    ("sql_format_vuln.py", "B608", 7): Severity.MEDIUM,  # a value formatted in
    ("sql_format_vuln.py", "B608", 8): Severity.LOW,  # values bound, an identifier spliced
}

# adversarial review cases (docs/scanning.md): each line marked "# B60x high: ..." in
# shell_unproven_vuln.py is a shell finding that must keep bandit's high
# ("# B602 high +B607: ..." when bandit also reports B607 there; "open": a known bypass
# not fixed yet, reported but not asserted high)
_MARKED = re.compile(r"#\s*(B60[2-5]) (high|open)(?: \+(B\d+))?: ")
for _n, _text in enumerate((CORPUS / "shell_unproven_vuln.py").read_text().splitlines(), 1):
    if (_m := _MARKED.search(_text)) is not None:
        EXPECTED["shell_unproven_vuln.py"].add((_m.group(1), _n))
        if _m.group(3):
            EXPECTED["shell_unproven_vuln.py"].add((_m.group(3), _n))
        if _m.group(2) == "high":
            SEVERITIES[("shell_unproven_vuln.py", _m.group(1), _n)] = Severity.HIGH


@pytest.fixture(scope="module")
def results() -> tuple[list[Finding], list[object]]:
    findings, rules = sast.run(load_tree(CORPUS))
    return findings, rules


def test_every_corpus_file_has_an_expectation() -> None:
    assert {p.name for p in CORPUS.glob("*.py")} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file(results: tuple[list[Finding], list[object]], name: str) -> None:
    findings, _ = results
    assert {(f.rule_id, f.line) for f in findings if f.path == name} == EXPECTED[name]


def test_findings_carry_severity_cwe_and_remediation(
    results: tuple[list[Finding], list[object]],
) -> None:
    findings, rules = results
    by_rule = {f.rule_id: f for f in findings}
    by_rule["B324"] = next(f for f in findings if f.path == "weak_hash_vuln.py")
    # weak hash, as RP-L007 (bandit says CWE-327)
    assert by_rule["B324"].severity is Severity.HIGH and by_rule["B324"].cwe == "CWE-328"
    assert by_rule["B501"].severity is Severity.HIGH and by_rule["B501"].cwe == "CWE-295"
    assert by_rule["B602"].cwe == "CWE-78"
    assert next(f for f in findings if f.path == "shell_vuln.py" and f.rule_id == "B602"
                ).severity is Severity.HIGH
    assert by_rule["B506"].severity is Severity.MEDIUM
    assert by_rule["B506"].cwe == "CWE-502"  # unsafe deserialisation, as RP-T004
    # bandit rates B113 medium with low confidence: lowered one step, so it warns
    assert by_rule["B113"].severity is Severity.LOW
    for f in findings:
        assert f.family == "sast" and f.rule_id in f.remediation
    assert {r.rule_id for r in rules} == set(by_rule)  # type: ignore[attr-defined]


@pytest.mark.parametrize("key", sorted(SEVERITIES))
def test_calibrated_severity(results: tuple[list[Finding], list[object]],
                             key: tuple[str, str, int]) -> None:
    findings, _ = results
    name, rule, line = key
    [found] = [f for f in findings if (f.path, f.rule_id, f.line) == key]
    assert found.severity is SEVERITIES[key]
    if found.severity is Severity.LOW and rule != "B603":
        assert "rated low" in found.message  # the report says why it does not block


def test_no_literal_command_blocks(results: tuple[list[Finding], list[object]]) -> None:
    """A command written as a literal at the call is low; the same text through a name is
    not lowered (a name can be rebound in ways the gate does not follow)."""
    findings, _ = results
    literal = {("shell_constant_safe.py", 11), ("shell_constant_safe.py", 13)}
    got = {(f.path, f.line): f.severity for f in findings
           if f.path == "shell_constant_safe.py" and f.rule_id != "B404"}
    assert {k for k, v in got.items() if v is Severity.LOW} == literal


def test_eval_and_exec_are_code_injection(results: tuple[list[Finding], list[object]]) -> None:
    findings, rules = results
    assert {f.cwe for f in findings if f.rule_id in ("B307", "B102")} == {"CWE-94"}
    assert {r.cwe for r in rules if r.rule_id in ("B307", "B102")} == {"CWE-94"}  # type: ignore[attr-defined]


def test_bandit_cwes_are_renumbered_to_match_our_rules(
    results: tuple[list[Finding], list[object]],
) -> None:
    """cwe.py's renumberings reach both the findings and the rules of the report."""
    findings, rules = results
    want = {"B324": "CWE-328", "B607": "CWE-426", "B506": "CWE-502", "B602": "CWE-78",
            "B403": "CWE-502", "B301": "CWE-502"}
    assert {f.rule_id: f.cwe for f in findings if f.rule_id in want} == want
    assert {r.rule_id: r.cwe for r in rules if r.rule_id in want} == want  # type: ignore[attr-defined]


def test_nosec_in_the_scanned_code_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "h.py").write_text(
        "import hashlib\n\n\ndef handler(event, context):\n"
        "    return hashlib.md5(event['body'].encode()).hexdigest()  # nosec\n"
    )
    findings, _ = sast.run(load_tree(tmp_path))
    assert [(f.rule_id, f.line) for f in findings] == [("B324", 5)]


def test_files_restricts_the_scan(tmp_path: Path) -> None:
    for name in ("a.py", "b.py"):
        (tmp_path / name).write_text("import yaml\n\nyaml.load(open('x'))\n")
    findings, _ = sast.run(load_tree(tmp_path), files=["b.py"])
    assert {f.path for f in findings} == {"b.py"}


def test_quoted_words_inside_literal_quotes_keep_high(tmp_path: Path) -> None:
    """adv-gate4 B19: ``'{shlex.quote(x)}'`` / ``"{shlex.quote(x)}"`` undo the quoting
    (the in-place check); outside quotes, in place, it is medium."""
    (tmp_path / "h.py").write_text(
        "import os\nimport shlex\nimport subprocess\n\n\n"
        "def handler(event, context):\n"
        "    term = shlex.quote(event['term'])\n"
        "    os.system(f\"grep -c '{term}' /var/log/app.log\")\n"
        "    subprocess.run(f'echo \"for {shlex.quote(event[\"t\"])}\"', shell=True)\n"
        "    os.system('grep -c ' + term + ' /var/log/app.log')\n"
        "    os.system(\"echo \\\\\" + term)\n"
    )
    # a module with no literal that leaves a quote open: the quoted word is one word
    (tmp_path / "ok.py").write_text(
        "import os\nimport shlex\n\n\n"
        "def handler(event, context):\n"
        "    term = shlex.quote(event['term'])\n"
        "    os.system('grep -c ' + term + ' /var/log/app.log')\n"
        "    os.system(f'grep -c {shlex.quote(event[\"t\"])} /var/log/app.log')\n"
        "    os.system(f'grep -c \"x\" {term} /var/log/app.log')\n"
    )
    findings, _ = sast.run(load_tree(tmp_path))
    got = {(f.path, f.line, f.severity) for f in findings if f.rule_id in ("B602", "B605")}
    # in h.py, a literal that leaves a quote open (f"grep '{term}'") makes every
    # quoted word of the module unproven: it could be spliced next to any of them
    # in ok.py only the word quoted at the call is lowered (to medium, as B603):
    # one quoted through a name is not followed
    assert got == {("h.py", 8, Severity.HIGH), ("h.py", 9, Severity.HIGH),
                   ("h.py", 10, Severity.HIGH), ("h.py", 11, Severity.HIGH),
                   ("ok.py", 7, Severity.HIGH), ("ok.py", 8, Severity.MEDIUM),
                   ("ok.py", 9, Severity.HIGH)}


def test_quoting_undone_by_codecs_containers_and_characters_keeps_high(tmp_path: Path) -> None:
    """adv-gate4 B10 (unicode_escape turns \\x27 into a quote), B14 (str() of a list of
    quoted words repr()s them in "..."), B24 (``{0[1]}``, ``sorted()`` pick characters),
    B18 (url_for keeps ; $ & ' ( ) in values)."""
    (tmp_path / "h.py").write_text(
        "import os\nimport shlex\n\n\n"
        "def handler(event, context):\n"
        "    label = shlex.quote(event['label']).encode().decode('unicode_escape')\n"
        "    os.system('echo ' + label)\n"
        "    tags = [shlex.quote(t) for t in event['tags']]\n"
        "    os.system(f'logger -t api tags={tags}')\n"
        "    os.system('echo {0[1]}{0[2]}{0[3]}'.format(shlex.quote(event['x'])))\n"
        "    os.system('echo ' + ''.join(sorted(shlex.quote(event['y']))))\n"
        "    os.system('logger %s' % [shlex.quote(event['y'])])\n"
        "    os.system('ls ' + ' '.join(tags))\n"
        "    ok = shlex.quote(event['ok']).encode('utf-8').decode()\n"
        "    os.system('echo %s %s' % (ok, ok))\n"
        "    from flask import request, url_for\n"
        "    path = url_for('item', name=request.form['name'])\n"
        "    os.system(f'curl -s http://127.0.0.1:8080{path}')\n"
    )
    findings, _ = sast.run(load_tree(tmp_path))
    got = {(f.line, f.severity) for f in findings if f.rule_id in ("B602", "B605")}
    # (13 and 15 would be safe, but go through names, which are not followed)
    assert got == {(7, Severity.HIGH), (9, Severity.HIGH), (10, Severity.HIGH),
                   (11, Severity.HIGH), (12, Severity.HIGH), (13, Severity.HIGH),
                   (15, Severity.HIGH), (18, Severity.HIGH)}


# reviewer cases alone in a module (in shell_unproven_vuln.py some are high for a
# module-wide reason of another case: its globals(), its "sh -c"); the last line runs it
_ALONE = {
    "own_import": 'import os\nCMD = "uptime"\n\n\ndef handler(event, context):\n'
                  '    from local_settings import CMD\n    os.system(CMD + " > /dev/null")\n',
    "decorated": 'import os\nimport shlex\n\n\ndef passthrough(f):\n    return lambda v: v\n\n\n'
                 '@passthrough\ndef clean(v):\n    return shlex.quote(v)\n\n\n'
                 'def handler(event, context):\n    os.system("echo " + clean(event["x"]))\n',
    "shadowed_quote": 'import os\nfrom shlex import quote\n\n\ndef quote(s):  # noqa\n'
                      '    return s\n\n\ndef handler(event, context):\n'
                      '    os.system("echo " + quote(event["x"]))\n',
    "nonlocal": 'import os\n\n\ndef handler(event, context):\n    cmd = "uptime"\n\n'
                '    def choose():\n        nonlocal cmd\n        cmd = event["cmd"]\n\n'
                '    choose()\n    os.system(cmd)\n',
    "closure": 'import os\ncmd = "uptime"\n\n\ndef handler(event, context):\n'
               '    cmd = event["cmd"]\n\n    def run():\n        return os.system(cmd)\n',
    "walrus": 'import os\n\n\ndef handler(event, context):\n'
              '    _ = (cmd := event["cmd"]) if event.get("c") else (cmd := "uptime")\n'
              '    os.system(cmd)\n',
    "match_default": 'import os\n\n\ndef handler(event, context):\n'
                     '    cmd = event.get("cmd", "report")\n    match event.get("preset"):\n'
                     '        case "full":\n            cmd = "report --full"\n'
                     '    os.system(cmd)\n',
    "list_allowlist": 'import os\nTOOLS = ["uptime", "df"]\n\n\ndef handler(event, context):\n'
                      '    tool = event["tool"]\n    if tool not in TOOLS:\n        return 400\n'
                      '    os.system(tool)\n',
    "quote_via_name": 'import os\nimport shlex\nPRE = "grep \'"\n\n\ndef handler(event, context):\n'
                      '    q = shlex.quote(event["q"])\n    os.system(PRE + q + " x")\n',
    "module_if": 'import os\nCMD = "uptime"\nif "CMD" in os.environ:\n'
                 '    CMD = os.environ["CMD"]\n\n\ndef handler(event, context):\n'
                 '    os.system(CMD + " > /dev/null")\n',
    "globals_loader": 'import os\nCMD = "uptime"\n\n\ndef load(s):\n    for k, v in s.items():\n'
                      '        globals()[k] = v\n\n\ndef handler(event, context):\n'
                      '    load(event["s"])\n    os.system(CMD)\n',
    "chained": 'import os\nimport subprocess\n\n\ndef handler(event, context):\n'
               '    cmd = os.environ["HEALTH_CMD"]\n'
               '    return subprocess.check_output(cmd, shell=True).decode("utf-8")\n',
    "placeholder": 'import os\n\n\ndef handler(event, context):\n'
                   '    url = os.environ["UPSTREAM"]\n    base = url.split("?")[0]\n'
                   '    os.system(f"curl -s {base}")\n',
    "except_default": 'import subprocess\n\n\ndef handler(event, context):\n'
                      '    host = "localhost"\n    try:\n        host = event["host"]\n'
                      '        int(host)\n    except ValueError:\n'
                      '        subprocess.check_output(f"host {host}", shell=True)\n',
    "bound_append": 'import os\n\n\ndef handler(event, context):\n    argv = ["ls"]\n'
                    '    add = argv.append\n    for n in event["files"]:\n        add(n)\n'
                    '    os.system(" ".join(argv))\n',
    "helper_sets_attr": 'import os\nimport types\n\n\ndef configure(job, event):\n'
                        '    job.name = event.get("name", job.name)\n\n\n'
                        'def handler(event, context):\n    job = types.SimpleNamespace()\n'
                        '    job.name = "nightly"\n    configure(job, event)\n'
                        '    os.system("echo running " + job.name)\n',
    "shadowed_int": 'import os\n\n\ndef handler(event, context):\n    int = str  # noqa\n'
                    '    os.system("seq " + str(int(event["n"])))\n',
    "param_quote": 'import os\nfrom shlex import quote\n\n\n'
                   'def handler(event, context, quote=lambda s: s):  # noqa\n'
                   '    os.system("echo " + quote(event["x"]))\n',
    "str_membership_local": 'import os\n\n\ndef handler(event, context):\n'
                            '    formats = "json yaml csv"\n    fmt = event["fmt"]\n'
                            '    if fmt not in formats:\n        return 400\n'
                            '    os.system("export --format " + fmt)\n',
    "exec_global": 'import os\nCMD = "uptime"\n\n\ndef handler(event, context):\n'
                   '    exec("global CMD; CMD = " + repr(event["cmd"]))\n    os.system(CMD)\n',
    "global_pattern": 'import os\nimport re\nPAT = r"[a-z]+"\n\n\ndef loosen():\n'
                      '    global PAT\n    PAT = r".+"\n\n\ndef handler(event, context):\n'
                      '    loosen()\n    n = event["n"]\n    if not re.fullmatch(PAT, n):\n'
                      '        return 400\n    os.system("echo " + n)\n',
    "popen_w": 'import os\n\n\ndef handler(event, context):\n'
               '    os.popen("sh", "w").write("ls " + event["d"])\n',
    "stdin_spread": 'import subprocess\n\n\ndef handler(event, context):\n'
                    '    kw = {"input": "ls " + event["d"], "text": True}\n'
                    '    subprocess.run("sh", shell=True, **kw)\n',
    # adversarial review 5: a shell by its full path, and the dot builtin, fed on stdin
    "stdin_abs_sh": 'import subprocess\n\n\ndef handler(event, context):\n'
                    '    script = "ls -l " + event["name"]\n'
                    '    subprocess.run("/bin/sh", shell=True, input=script, text=True)\n',
    "stdin_source": 'import subprocess\n\n\ndef handler(event, context):\n'
                    '    script = "ls -l " + event["name"]\n'
                    '    subprocess.run(". /dev/stdin", shell=True, input=script, text=True)\n',
    # a script fed on stdin through a name another function can rebind (globals())
    "stdin_by_name": 'import subprocess\nSCRIPT = "ls"\n\n\ndef load(s):\n'
                     '    globals().update(s)\n\n\ndef handler(event, context):\n'
                     '    load(event)\n'
                     '    subprocess.run("sh", shell=True, input=SCRIPT, text=True)\n',
    "heredoc": 'import os\nimport shlex\n\n\ndef handler(event, context):\n'
               '    q = shlex.quote(event["q"])\n    os.system("cat <<EOF\\n" + q + "\\nEOF")\n',
}


@pytest.mark.parametrize("name", sorted(_ALONE))
def test_reviewer_cases_alone_keep_high(tmp_path: Path, name: str) -> None:
    (tmp_path / "h.py").write_text(_ALONE[name])
    findings, _ = sast.run(load_tree(tmp_path))
    last = len(_ALONE[name].rstrip("\n").splitlines())
    [shell] = [f for f in findings if f.rule_id in ("B602", "B605") and f.line == last]
    assert shell.severity is Severity.HIGH, shell.message


def test_a_module_changed_by_another_module_is_not_lowered(tmp_path: Path) -> None:
    """``import app; app.quote = str`` or ``setattr(names_module, "quote", f)`` in
    another module: each file is judged on its own, so the gate re-checks lowered
    shell findings against the whole app (``calibrate.changed_from_outside``)."""
    from ramparts.scan import calibrate

    quoted = ('import os\nfrom shlex import quote\n\n\ndef handler(event, context):\n'
              '    os.system("echo " + quote(event["x"]))\n')
    (tmp_path / "app.py").write_text(quoted)
    (tmp_path / "plugins.py").write_text(
        'import app\n\n\ndef load(event):\n    app.quote = str\n')
    (tmp_path / "names.py").write_text(quoted)
    (tmp_path / "setter.py").write_text(
        'import names as n\n\n\ndef load(event):\n    setattr(n, "quote", str)\n')
    (tmp_path / "other.py").write_text(quoted)
    tree = load_tree(tmp_path)
    findings, _ = sast.run(tree)
    assert {(f.path, f.severity) for f in findings if f.rule_id in ("B602", "B605")} == {
        ("app.py", Severity.MEDIUM), ("names.py", Severity.MEDIUM), ("other.py", Severity.MEDIUM)}
    judged = calibrate.changed_from_outside(tree.python, findings)
    assert {(f.path, f.severity) for f in judged if f.rule_id in ("B602", "B605")} == {
        ("app.py", Severity.HIGH), ("names.py", Severity.HIGH), ("other.py", Severity.MEDIUM)}


@pytest.mark.parametrize("argv", [
    '["timeout", "10", "sh", "-c", os.environ["HOOK"]]',  # a wrapper before the shell
    '["sh", "-c", "--", os.environ["HOOK"]]',  # the script after "--"
    '["/usr/bin/env", "bash", "-ec", os.environ["HOOK"]]',
])
def test_a_shell_script_chosen_at_run_time_is_high_without_shell_true(
        tmp_path: Path, argv: str) -> None:
    """adversarial review 5 (N13, N22): ``sh -c`` behind a wrapper or ``--`` is still a
    shell running a run-time script, not an argument list (B603's medium)."""
    (tmp_path / "h.py").write_text(
        "import os\nimport subprocess\n\n\ndef handler(event, context):\n"
        f"    subprocess.run({argv}, check=False)\n")
    findings, _ = sast.run(load_tree(tmp_path))
    [shell] = [f for f in findings if f.rule_id == "B603"]
    assert shell.severity is Severity.HIGH, shell.message
