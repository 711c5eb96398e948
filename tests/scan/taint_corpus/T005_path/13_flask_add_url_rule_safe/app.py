"""RP-T005 (path), safe twin: the registered view keeps only the final path component."""

import os

from flask import Flask

app = Flask(__name__)


def read_file(name):
    return open("/srv/files/" + os.path.basename(name)).read()  # safe: RP-T005


app.add_url_rule("/files/<path:name>", view_func=read_file)
