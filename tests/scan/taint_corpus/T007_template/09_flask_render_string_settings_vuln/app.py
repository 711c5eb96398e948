"""RP-T007: a Flask page whose heading is put into the template source."""

from flask import Flask, render_template_string, request

app = Flask(__name__)

PAGE = "<html><body><h1>{title}</h1><p>{{ body }}</p></body></html>"


def page_settings(form):
    settings = {"title": "Untitled", "body": ""}
    settings.update({key: form[key] for key in ("title", "body") if key in form})
    return settings


@app.post("/preview")
def preview():
    settings = page_settings(request.form)
    source = PAGE.replace("{title}", settings["title"])
    return render_template_string(source, body=settings["body"])  # expect: RP-T007 CWE-1336
