"""The built email as one message file (email.eml): what a mail program opens, and what `digest send` sends.

multipart/alternative with the text part first and the HTML second (RFC 2046: the last part is the one
preferred), built by the standard `email` package so headers are folded and encoded (RFC 2047 for a
non-ASCII subject) as mail programs expect. Lines end in CRLF, the form mail travels in.
"""

from __future__ import annotations

import datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from digest.exceptions import ConfigError
from digest.model import Result


def require_sender(newsletter) -> None:
    if newsletter.sender is None:
        raise ConfigError('a test copy or an .eml needs a sender for its From line: add  sender = "Name <address@example.org>"  to digest.toml',
                          newsletter.config_path)


def build_message(email: Result) -> EmailMessage:
    newsletter = email.newsletter
    require_sender(newsletter)
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = newsletter.sender
    message["Subject"] = email.issue.subject
    message["Date"] = format_datetime(datetime.datetime.now().astimezone())
    message["Message-ID"] = make_msgid(domain=parseaddr(newsletter.sender)[1].rpartition("@")[2])
    if newsletter.unsubscribe:
        message["List-Unsubscribe"] = ", ".join(f"<{link}>" for link in newsletter.unsubscribe)
        # RFC 8058: one-click only with an https address, which the mail program then POSTs to.
        if any(link.lower().startswith("https://") for link in newsletter.unsubscribe):
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    # quoted-printable: 7-bit clean and no line over 76 characters (the HTML has lines far past SMTP's 998);
    # it keeps the spaces that end the flowed lines (=20), which transport would otherwise strip.
    # format=flowed (RFC 3676): phones join the text part's lines again to fit their width.
    message.set_content(email.flowed or email.text, subtype="plain", charset="utf-8", cte="quoted-printable",
                        params={"format": "flowed"} if email.flowed else None)
    message.add_alternative(email.html, subtype="html", charset="utf-8", cte="quoted-printable")
    return message


def message_bytes(email: Result) -> bytes:
    return build_message(email).as_bytes()
