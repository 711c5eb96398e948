"""RP-T002 (command), vulnerable, Python 3.12 syntax: a type alias and a generic helper."""

import subprocess

from flask import Flask, jsonify, request

app = Flask(__name__)

type Archive = str


def first[T](items: list[T]) -> T:
    return items[0]


@app.route("/archive", methods=["POST"])
def archive():
    names: list[Archive] = request.form.getlist("name")
    target = first(names)
    out = subprocess.run(f"tar czf /tmp/{target}.tgz /srv/data", shell=True)  # expect: RP-T002 CWE-78
    return jsonify({"code": out.returncode})
