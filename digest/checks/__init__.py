"""The offline checks of `digest check` (and of every build): what would embarrass the newsletter once sent.

Each check is a function of the built `Result` (the issue, the settings, the email and its parsed page)
returning `Finding`s that name the line to fix, taken from the source maps the readers filled. One module
per family; this registry is the order they run in. Findings come out as a linter's do: a file's together
(in the order the checks first name them), top to bottom, so an editor fixes them in reading order. Nothing
here touches the network:
`digest.links` visits the links over HTTP.
"""

from __future__ import annotations

from digest.checks import content, contrast, delivery, links, text, theme
from digest.model import Finding, Result

CHECKS = (
    delivery.check_size,
    links.check_images,
    links.check_links,
    delivery.check_unsubscribe,
    delivery.check_address,
    text.check_subject,
    text.check_text_part,
    content.check_typed_text,
    content.check_first_name,
    content.check_starter_text,
    content.check_entries,
    content.check_status,
    contrast.check_contrast,
    theme.check_blocks,
    theme.check_escaped,
    theme.check_text_escaped,
    theme.check_mjml_elements,
)


def run_checks(result: Result) -> list[Finding]:
    findings = [finding for check in CHECKS for finding in check(result)]
    files: dict[str, int] = {}
    for finding in findings:
        files.setdefault(str(finding.path), len(files))
    # A finding of the whole file (no line) before its lines; the sort is stable, so one line keeps check order.
    return sorted(findings, key=lambda f: (files[str(f.path)], -1 if f.line is None else f.line))
