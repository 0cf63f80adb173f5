"""The sample email, in both built-in themes, judged by tools written elsewhere, as a receiving inbox would:
official MJML (npm `mjml`) validating email.mjml in strict mode; axe-core in Chromium, light at 600 px and dark
at 375 px; caniemail, whose client-support errors must be no more than those of official MJML's own compile of
the same email.mjml. The npm packages are pinned in .ci/package.json (`npm ci --prefix .ci --ignore-scripts`,
which .ci/run does); .ci/email-audit.mjs runs MJML and caniemail. Each test is skipped, saying why, where its
tool is missing. Run it on every template change: `.venv/bin/python -m pytest tests/test_email_audit.py`."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import REPO, SAMPLE_CONFIG, SAMPLE_ISSUE, needs_chromium

import digest

NODE_MODULES = REPO / ".ci" / "node_modules"
AXE = NODE_MODULES / "axe-core" / "axe.min.js"
NPM = "run `npm ci --prefix .ci --ignore-scripts` (.ci/run does)"
needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js for official MJML and caniemail (apt-get install npm)")
needs_npm = pytest.mark.skipif(not (NODE_MODULES / "mjml").is_dir() or not (NODE_MODULES / "caniemail").is_dir(),
                               reason=f"needs the npm packages mjml and caniemail: {NPM}")
# An email is shown inside the mail program's own page, which holds the page's landmarks (<main>, regions):
# axe's two best practices about landmarks cannot apply to it. Every other rule, WCAG or best practice, must pass.
NOT_FOR_EMAIL = {"landmark-one-main", "region"}


@pytest.fixture(scope="module", params=["default", "plain"])
def built(request, tmp_path_factory) -> Path:
    """The sample issue built, as `digest build` writes it, with the theme of the test's parameter."""
    root = tmp_path_factory.mktemp(request.param)
    shutil.copytree(SAMPLE_ISSUE.parent, root / "issues")
    settings = SAMPLE_CONFIG.read_text(encoding="utf-8")
    # Top-level keys go before the first table ([[social]]).
    (root / "digest.toml").write_text(f'theme = "{request.param}"\n' + settings, encoding="utf-8")
    # Written whatever digest's own checks say (as --force would), so these tools judge on their own.
    return digest.write(digest.build(root / "issues" / SAMPLE_ISSUE.name), root / "build")


@pytest.fixture(scope="module")
def audit(built) -> dict:
    run = subprocess.run(["node", str(REPO / ".ci" / "email-audit.mjs"), str(built)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


@needs_node
@needs_npm
def test_official_mjml_in_strict_mode_finds_no_error(audit):
    assert audit["mjml"] == []


@needs_node
@needs_npm
def test_caniemail_finds_no_error_beyond_official_mjmls_own_output(audit):
    ours, reference = audit["caniemail"]["ours"], audit["caniemail"]["reference"]
    assert reference, "caniemail found nothing at all in MJML's output: did it run?"
    beyond = {feature: clients for feature, clients in ours.items() if feature not in reference}
    assert beyond == {}


@needs_chromium
@pytest.mark.skipif(not AXE.is_file(), reason=f"needs axe-core: {NPM}")
@pytest.mark.parametrize("scheme, width", [("light", 600), ("dark", 375)])
def test_axe_finds_no_wcag_violation(built, browser, scheme, width):
    page = browser.new_page(viewport={"width": width, "height": 1000}, color_scheme=scheme)
    # As an inbox with images off: nothing is fetched from the web.
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort())
    page.goto((built / "email.html").as_uri())
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    result = page.evaluate("""axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}).then(r => ({
        passes: r.passes.map(rule => rule.id),
        violations: r.violations.map(rule => [rule.id, rule.nodes.map(node => node.html.slice(0, 120))]),
    }))""")
    page.close()
    violations = {rule: nodes for rule, nodes in result["violations"] if rule not in NOT_FOR_EMAIL}
    assert violations == {}, (scheme, width)  # WCAG 2.1 A and AA, and axe's other best practices
    assert "color-contrast" in result["passes"] and "html-has-lang" in result["passes"]  # axe did run its rules
