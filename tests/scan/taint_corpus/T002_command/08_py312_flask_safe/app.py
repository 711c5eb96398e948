"""RP-T002 (command), safe twin, Python 3.12 syntax: the name is quoted for the shell."""

import shlex
import subprocess

from flask import Flask, jsonify, request

app = Flask(__name__)

type Archive = str


def first[T](items: list[T]) -> T:
    return items[0]


@app.route("/archive", methods=["POST"])
def archive():
    names: list[Archive] = request.form.getlist("name")
    target = shlex.quote(first(names) + ".tgz")
    out = subprocess.run(f"tar czf /tmp/{target} /srv/data", shell=True)  # safe: RP-T002
    return jsonify({"code": out.returncode})
