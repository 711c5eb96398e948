"""Handler of the reporting API."""

from flask import Flask, request
from lxml import etree

app = Flask(__name__)


TREE = etree.parse("/srv/data/users.xml")


@app.route("/submit", methods=["POST"])
def submit():
    val = request.form["name"]
    password = request.form["password"]
    cond = "name=$n and password=$p"
    out = bool(TREE.xpath(f"//account[{cond}]", n=val, p=password))
    return {"result": str(out)}
