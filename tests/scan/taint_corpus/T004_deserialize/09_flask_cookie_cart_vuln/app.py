"""RP-T004: the shopping cart travels in a cookie and is restored by CartStore."""

from cart import CartStore
from flask import Flask, jsonify, request

app = Flask(__name__)
store = CartStore()


@app.get("/cart")
def show_cart():
    cart = store.restore(request.cookies.get("cart", ""))
    return jsonify({"items": cart})
