"""RP-T005 (path), vulnerable: a view registered with add_url_rule gets the URL's <name>."""

from flask import Flask

app = Flask(__name__)


def read_file(name):
    return open("/srv/files/" + name).read()  # expect: RP-T005 CWE-22


app.add_url_rule("/files/<path:name>", view_func=read_file)
