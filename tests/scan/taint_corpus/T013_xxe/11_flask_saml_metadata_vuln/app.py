"""RP-T013 (xxe), vulnerable: a Flask endpoint imports an uploaded SAML metadata document."""

from flask import Flask, jsonify, request
from lxml import etree

app = Flask(__name__)
NS = {"md": "urn:oasis:names:tc:SAML:2.0:metadata"}


def _entity_id(document):
    parser = etree.XMLParser(resolve_entities=True, load_dtd=True)
    root = etree.fromstring(document, parser)  # expect: RP-T013 CWE-611
    return root.get("entityID")


@app.route("/admin/idp-metadata", methods=["POST"])
def import_metadata():
    document = request.files["metadata"].read()
    return jsonify({"entity_id": _entity_id(document)})
