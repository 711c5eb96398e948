"""RP-T013 (xxe), safe twin: the SAML metadata is parsed with defusedxml."""

from defusedxml import ElementTree
from flask import Flask, jsonify, request

app = Flask(__name__)
NS = {"md": "urn:oasis:names:tc:SAML:2.0:metadata"}


def _entity_id(document):
    root = ElementTree.fromstring(document, forbid_dtd=True)  # safe: RP-T013
    return root.get("entityID")


@app.route("/admin/idp-metadata", methods=["POST"])
def import_metadata():
    document = request.files["metadata"].read()
    return jsonify({"entity_id": _entity_id(document)})
