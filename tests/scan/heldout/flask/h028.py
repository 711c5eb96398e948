"""Endpoint of the billing service."""

import pymysql
from flask import Flask, request

app = Flask(__name__)


@app.route("/submit", methods=["POST"])
def submit():
    val = request.form["name"]
    class Db:
        password = "hunter2-prod"
        def connect(self):
            return pymysql.connect(host="mysql.internal", user="shop", password=self.password, database="shop")
    out = Db().connect().open
    return {"result": str(out)}
