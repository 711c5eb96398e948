"""RP-L002: a Flask app's catch-all error handler."""

from flask import Flask, jsonify

app = Flask(__name__)


@app.errorhandler(Exception)
def on_error(exc):
    return jsonify({"error": type(exc).__name__, "detail": str(exc)}), 500  # expect: RP-L002 CWE-209


@app.get("/orders/<int:order_id>")
def get_order(order_id):
    return jsonify({"order": order_id})
