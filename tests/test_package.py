"""The wheel carries the built-in themes: a non-editable install builds an issue from any folder, with either."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile

from conftest import REPO, SAMPLE_ISSUE


def test_non_editable_install_builds_from_another_folder(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(tmp_path), str(REPO)],
                   check=True, capture_output=True)
    (wheel,) = tmp_path.glob("digest-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"digest/templates/default/email.mjml.j2", "digest/templates/default/email.txt.j2", "digest/templates/default/theme.toml",
            "digest/templates/default/icons/facebook.png", "digest/templates/default/new/issue.yaml.j2",
            "digest/templates/plain/email.mjml.j2", "digest/templates/plain/email.txt.j2", "digest/templates/plain/theme.toml",
            "digest/cli.py"} <= names
    assert {f"digest/templates/default/web/{name}" for name in
            ("base.html.j2", "index.html.j2", "issue.html.j2", "article.html.j2", "style.css.j2")} <= names
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)], check=True, capture_output=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    version = subprocess.run([sys.executable, "-m", "digest", "--version"], capture_output=True, text=True, env=env, cwd=elsewhere)
    assert f"from {site / 'digest'}" in version.stdout  # the installed copy, not this checkout
    result = subprocess.run([sys.executable, "-m", "digest", "build", str(SAMPLE_ISSUE), "--out", "out"],
                            capture_output=True, text=True, env=env, cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    assert (elsewhere / "out" / "2024-06-ldn-trials" / "icons" / "facebook.png").is_file()
    assert "Low-Dose Naltrexone" in (elsewhere / "out" / "2024-06-ldn-trials" / "email.html").read_text()
    # The plain theme, whose text part extends "default/email.txt.j2": the prefixes work from the wheel too.
    shutil.copytree(REPO / "issues", elsewhere / "issues")
    (elsewhere / "digest.toml").write_text('theme = "plain"\n' + (REPO / "digest.toml").read_text())
    result = subprocess.run([sys.executable, "-m", "digest", "build", "issues/2024-06-ldn-trials.yaml", "--out", "plain"],
                            capture_output=True, text=True, env=env, cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    built = elsewhere / "plain" / "2024-06-ldn-trials"
    assert "Find us on: <a" in (built / "email.html").read_text() and "Unsubscribe: *|UNSUB|*" in (built / "email.txt").read_text()
    # Its archive: the plain theme has no web/ of its own, so the default theme's web pages, in plain's colours.
    result = subprocess.run([sys.executable, "-m", "digest", "archive"], capture_output=True, text=True, env=env, cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    assert "<h1>Low dose naltrexone is making news again</h1>" in (elsewhere / "site" / "2024-06-ldn-trials" / "index.html").read_text()
    assert "--text: #1b1f24;" in (elsewhere / "site" / "style.css").read_text()
