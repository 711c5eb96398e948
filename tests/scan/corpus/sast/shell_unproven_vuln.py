"""Shell commands nothing shows safe (whether or not RP-T002 flags them): bandit's high stays."""

import json
import os
import re
import shlex
import subprocess

from helpers import lookup

TOOL = os.environ["TOOL"]


def run(cmd):
    subprocess.run(cmd, shell=True)  # high: a parameter, whoever calls it


def handler(event, context):
    name = event["name"]
    os.system("ls " + lookup(name))  # high: the app's helper is not followed here
    os.system(TOOL + " --scan")  # high: a global the operator (or anyone) sets
    os.system("echo " + os.getenv("GREETING", ""))  # high: not a constant
    quoted = shlex.quote(name)
    os.system(f"grep {quoted} {name}")  # high: one part quoted, the other raw
    if re.fullmatch(r"[a-z]+", name):
        pass
    os.system("touch /tmp/" + name)  # high: the guard does not stop the bad case
    if name.isdigit():
        quoted = event["raw"]
    subprocess.run("head -n " + quoted, shell=True)  # high: reassigned in a branch

    def inner():
        os.system("wc -l " + quoted)  # high: a closure's value is not followed

    inner()
    word = shlex.quote(event["word"])  # each below undoes or cuts the quoting
    os.system("echo " + word[1:-1])  # high: a slice drops the quotes
    os.system("echo " + word.strip("'"))  # high
    os.system(f"echo {word!r}")  # high: repr re-quotes with "...", where $() runs
    os.system("echo %.3s %s" % (word, word))  # high: a precision cuts a quote off
    os.system("echo " + json.dumps(word))  # high: "..." again
    return {"statusCode": 200}


os.system("echo %r" % shlex.quote(TOOL))  # high: %r re-quotes a word spliced in directly
os.system(f"echo {shlex.quote(TOOL):.4}")  # high: a precision cuts it

ARGS = ["ls", "-l"]


def _add(parts, value):
    parts.append(value)


def more(event, context):
    ARGS.append(event["extra"])  # changes the module's list for every later request
    parts = ["ls"]
    alias = parts
    alias.append(event["dir"])
    os.system(" ".join(parts))  # high: filled through another name
    words = ["echo"]
    _add(words, event["word"])
    os.system(" ".join(words))  # high: filled by the app's helper
    return {"statusCode": 200}


def listing(event, context):
    os.system(" ".join(ARGS))  # high: another function appends to ARGS
    return {"statusCode": 200}


SH_ARGS = ["ls -l /srv"]


def reconfigure(event, context):
    SH_ARGS.insert(0, event["cmd"])  # the list's first word is what the shell runs
    return {"statusCode": 200}


def run_listing(event, context):
    subprocess.run(SH_ARGS, shell=True)  # high: not a constant once something changes it
    return {"statusCode": 200}


# -- adversarial review 4 (adv-gate4): each marked line is a real, exploited bypass --------
def b25_chained_decode(event, context):
    cmd = os.environ["HEALTH_CMD"]
    subprocess.check_output(cmd, shell=True).decode("utf-8")  # B602 high: B25 chained call
    hook = open("/tmp/hook.txt").read()
    return os.popen(hook).read().split("\n")  # B605 high: B25 chained call


def b7_placeholder_split(event, context):
    url = os.environ["UPSTREAM"]
    base = url.split("?")[0]
    os.system(f"curl -s {base}")  # B605 high: B7 "?" is not a shell placeholder
    target = os.environ.get("TARGET", "")
    os.system(" ".join(["ping", "-c", "1", target.strip("?")]))  # B605 high: B23


def b3_nonlocal(event, context):
    b3cmd = "uptime"

    def choose():
        nonlocal b3cmd
        b3cmd = event.get("cmd", b3cmd)

    choose()
    os.system(b3cmd)  # B605 high: B3 rebound by nonlocal


B4CMD = "uptime"


def b4_set_cmd(v):
    global B4CMD
    B4CMD = v


def b4_global(event, context):
    b4_set_cmd(event["cmd"])
    os.system(B4CMD)  # B605 high: B4 rebound by global elsewhere


def b5_match_capture(event, context):
    b5cmd = "uptime"
    match json.load(open("/tmp/job.json")):
        case {"cmd": str(b5cmd)}:
            pass
    os.system(b5cmd)  # B605 high: B5 bound by a match pattern


b6cmd = "uptime"


def b6_closure(event, context):
    b6cmd = event["cmd"]

    def run_it():
        return os.system(b6cmd)  # B605 high: B6 the enclosing function's value

    return run_it()


B28_CMD = "uptime"


def b28_load_settings(settings):
    for k, v in settings.items():
        globals()[k.upper()] = v


def b28_globals(event, context):
    b28_load_settings(event["settings"])
    os.system(B28_CMD)  # B605 high: B28 rebound through globals()


B30_CMD = "uptime"
if "B30_CMD" in os.environ:
    B30_CMD = os.environ["B30_CMD"]
B30_TRY = "uptime"
try:
    from local_settings import B30_TRY
except ImportError:
    pass


def b30_override(event, context):
    os.system(B30_CMD + " > /dev/null")  # B605 high: B30 overridden at module level
    os.system(B30_TRY + " > /dev/null")  # B605 high: B30 an import may replace it


def b1_except_default(event, context):
    import ipaddress
    host = "localhost"
    try:
        host = event["host"]
        ipaddress.ip_address(host)
    except ValueError:
        subprocess.check_output(f"host {host}", shell=True)  # B602 high: B1 except arm
    host2 = "localhost"
    try:
        host2 = event["host"]
    except KeyError:
        return 400
    else:
        subprocess.check_output(f"ping -c 1 {host2}", shell=True)  # B602 high: B1b else arm
    error = "none"
    try:
        float(event["ratio"])
    except ValueError as error:  # noqa: F811
        subprocess.run(f"logger -t api bad ratio: {error}", shell=True)  # B602 high: B2
    return 200


def b19_quote_in_quotes(event, context):
    term = shlex.quote(event["term"])
    os.system(f"grep -c '{term}' /var/log/app.log")  # B605 high: B19 quotes cancel quote()'s
    subprocess.run(f'echo "searching {shlex.quote(event["term"])}"', shell=True)  # B602 high: B19
    name = event["name"]
    os.system(f"timeout 5 sh -c 'echo hello '{shlex.quote(name)}")  # B605 high: B19 sh -c
    path = shlex.quote(event["path"])
    os.system(f"ssh backup@10.0.0.5 ls -l {path}")  # B605 high: B19 ssh re-parses


def b26_loops(event, context):
    level = event.get("level", "info")
    for _flag in event.get("verbose", []):
        level = "debug"
    os.system(f"report --level {level}")  # B605 high: B26 zero iterations
    port = "80"
    for port in event["ports"]:
        if not port.isdigit():
            continue
    os.system(f"nc -z localhost {port}")  # B605 high: B27 continue path
    older = previous = "true"
    for step in event["steps"]:
        os.system(older)  # B605 high: B11 three passes
        older = previous
        previous = step
    return 200


def b33_match_no_default(event, context):
    cmd = event.get("cmd", "report")
    match event.get("preset"):
        case "full":
            cmd = "report --full"
        case "short":
            cmd = "report --short"
    os.system(cmd)  # B605 high: B33 no case matched


def b34_walrus(event, context):
    _mode = (cmd := event["cmd"]) if event.get("custom") else (cmd := "uptime")
    os.system(cmd)  # B605 high: B34 walrus in a conditional expression
    argv = ["ls", "-l"]
    [argv.append(name) for name in event["files"]]
    os.system(" ".join(argv))  # B605 high: B22 comprehension side effect
    line = "ls -l"
    [line := line + " " + name for name in event["files"]]
    os.system(line)  # B605 high: B22 comprehension walrus


def b35_suppress(event, context):
    import contextlib
    n = event["n"]
    with contextlib.suppress(ValueError):
        if not n.isdigit():
            raise ValueError(n)
    os.system("seq " + n)  # B605 high: B35 raise swallowed by the with


B8_NAME = re.compile(r"[a-z0-9]+")
B12_SAFE = re.compile(r"[a-z0-9]+")


def b8_guards(event, context):
    name = event["name"]
    if not B8_NAME.fullmatch(name, 0, 32):
        return 400
    os.system("echo " + name)  # B605 high: B8 endpos
    B12_SAFE = re.compile(r"[^/]+")  # noqa: N806
    other = event["other"]
    if not B12_SAFE.fullmatch(other):
        return 400
    os.system("wc -l /srv/data/" + other)  # B605 high: B12 local pattern shadows
    fmt = event["format"]
    if fmt not in "json|yaml|csv":
        return 400
    os.system(f"export-data --format {fmt}")  # B605 high: B13 substring test
    clean = re.sub(r"[^a-z0-9]", "", event["x"], re.I)
    os.system("echo " + clean)  # B605 high: B31 flags passed as count
    q = event["q"]
    if not q.get("lines", "10").isdigit():
        return 400
    os.system("tail -n " + q.get("lines", q.get("default", "10")))  # B605 high: B32
    return 200


def abort(status):
    return {"statusCode": status}


def b15_own_abort(event, context):
    n = event["n"]
    if not n.isdigit():
        abort(400)
    os.system("seq " + n)  # B605 high: B15 the app's abort returns


def b10_b14_b24(event, context):
    label = shlex.quote(event["label"]).encode().decode("unicode_escape")
    os.system("echo " + label)  # B605 high: B10 unicode_escape undoes quoting
    tags = [shlex.quote(t) for t in event["tags"]]
    os.system(f"logger -t api tags={tags}")  # B605 high: B14 repr of a list re-quotes
    os.system("echo {0[1]}{0[2]}{0[3]}".format(shlex.quote(event["x"])))  # B605 high: B24
    os.system("echo " + "".join(sorted(shlex.quote(event["y"]))))  # B605 high: B24 sorted
    return 200


def b9_state(event, context):
    params = dict(event["qs"])
    if not params.get("lines", "10").isdigit():
        return 400
    params.update(json.loads(event["body"]))
    subprocess.check_output(f"tail -n {params['lines']} /x", shell=True)  # B602 high: B9
    argv = ["ls", "-l"]
    add = argv.append
    for name in event["files"]:
        add(name)
    os.system(" ".join(argv))  # B605 high: B21 bound method
    return 200


def b17_configure(job, event):
    job.name = event.get("name", job.name)


def b16_add_args(parts, event):
    parts.append(event["extra"])


def b16_b17_helpers(event, context):
    import types
    job = types.SimpleNamespace()
    job.name = "nightly"
    b17_configure(job, event)
    os.system("echo running " + job.name)  # B605 high: B17 helper sets the attribute
    spec = {"argv": ["ls", "-l"]}
    b16_add_args(spec["argv"], event)
    os.system(" ".join(spec["argv"]))  # B605 high: B16 helper fills job["argv"]
    return 200


def b29_stdin(event, context):
    script = "cd /tmp && ls -l " + event["name"]
    subprocess.run("sh", shell=True, input=script)  # B602 high +B607: B29 script on stdin
    pipe = subprocess.PIPE
    proc = subprocess.Popen("bash -s", shell=True, stdin=pipe, text=True)  # B602 high +B607: B29
    proc.communicate(script)


B20_TOOLS = ["uptime", "df"]  # another module may extend it (app.B20_TOOLS.extend(...))


def b20_allowlist(event, context):
    tool = event["tool"]
    if tool not in B20_TOOLS:
        return 400
    os.system(tool)  # B605 high: B20 a mutable module allowlist
    return 200


def b9_setattr_override(event, context):
    import types
    job = types.SimpleNamespace(name="nightly")
    job.name = event.get("name", "nightly")
    if not job.name.isalnum():
        return {"statusCode": 400}
    for key, value in event.get("overrides", {}).items():
        setattr(job, key, value)
    return os.system(f"echo running {job.name}")  # B605 high: B9 setattr in a loop


def conditional_sh_c_and_stdin_lists(event, context):
    subprocess.run(["sh", "-c", os.environ["HOOK"]], check=False)  # B603 high +B607: sh -c
    script = f"cd /tmp\nls -l {event['name']}\n"
    pipe = subprocess.PIPE
    proc = subprocess.Popen(["bash", "-s"], stdin=pipe, text=True)  # B603 high +B607: stdin
    proc.communicate(script)


GATEFIX_CMD = "uptime"


def own_import_rebinds(event, context):
    from local_settings import GATEFIX_CMD
    os.system(GATEFIX_CMD + " > /dev/null")  # B605 high: an import inside the function


def passthrough(f):
    return lambda value: value


@passthrough
def decorated_quote(value):
    return shlex.quote(value)


def decorated_helper(event, context):
    os.system("echo " + decorated_quote(event["x"]))  # B605 high: the decorator replaces it
