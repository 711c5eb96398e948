"""Function behind the public API gateway."""

from flask import Flask, request
from lxml import etree

app = Flask(__name__)


TREE = etree.parse("/srv/data/users.xml")


@app.route("/submit", methods=["POST"])
def submit():
    val = request.form["name"]
    password = request.form["password"]
    cond = f"name='{val}' and password='{password}'"
    out = bool(TREE.xpath(f"//account[{cond}]"))
    return {"result": str(out)}
