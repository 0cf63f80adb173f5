"""An MkDocs hook: the pages' tables are written for GitHub too, where a `|` inside code in a table cell must be
written `\\|`. Python-Markdown needs no escape there (it keeps a code span's pipes in its cell) and would show
the backslash, so it is taken out of the code spans of table rows before the page is rendered."""

import re

_CODE = re.compile(r"`[^`\n]*`")


def on_page_markdown(markdown: str, **kwargs) -> str:
    return "\n".join(_CODE.sub(lambda code: code.group(0).replace("\\|", "|"), line) if line.startswith("|") else line
                     for line in markdown.split("\n"))
