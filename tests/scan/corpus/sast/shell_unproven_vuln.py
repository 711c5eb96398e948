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
