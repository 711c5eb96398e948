"""RP-L002: a Flask app's catch-all error handler."""

from flask import Flask, jsonify

app = Flask(__name__)


@app.errorhandler(Exception)
def on_error(exc):
    app.logger.exception("unhandled error")
    return jsonify({"error": "internal error"}), 500  # safe: RP-L002


@app.get("/orders/<int:order_id>")
def get_order(order_id):
    return jsonify({"order": order_id})
