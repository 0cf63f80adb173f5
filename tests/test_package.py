"""The wheel carries the default theme: a non-editable install builds an issue from any folder."""

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
    assert {"digest/templates/email.mjml.j2", "digest/templates/email.txt.j2", "digest/templates/icons/facebook.png",
            "digest/templates/new/issue.yaml.j2", "digest/cli.py", "digest/templates/web/base.html.j2",
            "digest/templates/web/index.html.j2", "digest/templates/web/issue.html.j2",
            "digest/templates/web/article.html.j2", "digest/templates/web/style.css.j2"} <= names
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

    # The archive of a newsletter that has no templates/ of its own: made with the theme inside the wheel.
    newsletter = tmp_path / "newsletter"
    shutil.copytree(REPO / "issues", newsletter / "issues")
    shutil.copyfile(REPO / "digest.toml", newsletter / "digest.toml")
    result = subprocess.run([sys.executable, "-m", "digest", "archive"], capture_output=True, text=True, env=env, cwd=newsletter)
    assert result.returncode == 0, result.stderr
    assert "<h1>Low dose naltrexone is making news again</h1>" in (newsletter / "site" / "2024-06-ldn-trials" / "index.html").read_text()
