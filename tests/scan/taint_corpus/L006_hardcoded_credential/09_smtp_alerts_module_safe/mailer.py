"""Outgoing mail."""

import os
import smtplib
from email.message import EmailMessage

SMTP_HOST = "smtp.example.com"


def send_alert(to, subject):
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "alerts@example.com", to, subject
    with smtplib.SMTP_SSL(SMTP_HOST, 465) as smtp:
        smtp.login("alerts@example.com", os.environ["SMTP_PASSWORD"])  # safe: RP-L006
        smtp.send_message(msg)
