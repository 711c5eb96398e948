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
