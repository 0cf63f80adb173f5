"""digest.toml: found next to or above the issue, checked key by key, with the line of what is wrong."""

from __future__ import annotations

import pytest

from digest.config import find_config, load_config
from digest.exceptions import ConfigError


def error_of(newsletter, text: str | bytes) -> str:
    if isinstance(text, bytes):
        newsletter.config.write_bytes(text)
    else:
        newsletter.write_config(text)
    with pytest.raises(ConfigError) as caught:
        load_config(newsletter.config)
    message = caught.value.__str__()
    assert "\n" not in message
    return message


BASE = """\
name = "Test News"
organisation = "Test Org"
website = "https://www.testnews.example/"
address = "1 Test Street"
asset_base_url = "https://cdn.testnews.example/news"
"""


def test_reads_every_key(newsletter):
    newsletter.write_config(
        BASE
        + 'language = "en-GB"\nfooter = "Sent with [care](https://testnews.example/care)."\n'
        + 'logo = { src = "issues/images/logo.png", alt = "Test News logo" }\n'
        + '[[social]]\nplatform = "Bluesky"\nurl = "https://bsky.app/profile/test"\n'
        + '[colours]\nbrand = "#123456"\ndark_surface = "#000"\n'
    )
    news = load_config(newsletter.config)
    assert (news.name, news.language) == ("Test News", "en-GB")
    assert news.asset_base_url == "https://cdn.testnews.example/news/"
    assert news.logo.url == "https://cdn.testnews.example/news/issues/images/logo.png"
    (social,) = news.social
    assert (social.platform, social.label) == ("bluesky", "Bluesky")
    assert social.icon.url == "https://cdn.testnews.example/news/icons/bluesky.png"
    assert social.icon.source.is_file()
    assert news.colours.brand == "#123456" and news.colours.dark_surface == "#000"
    assert news.footer.links == (("care", "https://testnews.example/care", 0),)


def test_found_next_to_or_above_the_issue(newsletter):
    assert find_config(newsletter.root / "issues") == newsletter.config
    assert find_config(newsletter.root) == newsletter.config


@pytest.mark.parametrize(
    "text, expected",
    [
        (BASE + 'colour = "red"\n', "digest.toml:6: colour: unknown key: did you mean 'colours'?"),
        (BASE.replace('name = "Test News"\n', ""), "digest.toml: 'name' is missing"),
        (BASE.replace('"Test Org"', "42"), "digest.toml:2: organisation: must be text in quotes, not int"),
        (BASE.replace('"Test Org"', '" "'), "digest.toml:2: organisation: is empty"),
        (BASE.replace("https://www.testnews.example/", "javascript:alert(1)"), "digest.toml:3: website: the link 'javascript:alert(1)' must start with"),
        (BASE.replace("https://cdn.testnews.example/news", "mailto:a@b.org"), "digest.toml:5: asset_base_url: must be a web address"),
        (BASE.replace("https://cdn.testnews.example/news", "https://cdn.testnews.example/news?v=1#top"), "digest.toml:5: asset_base_url: must be a folder's address, without ? or #"),
        (BASE + 'sender = "News\\rBcc: x@testnews.example <news@testnews.example>"\n', "digest.toml:6: sender: "),
        (BASE + 'language = "English"\n', "digest.toml:6: language: 'English' is not a language code"),
        (BASE + "[colours]\nbrand = \"blue\"\n", "digest.toml:7: colours.brand: 'blue' is not a colour"),
        (BASE + "[colours]\nbrnd = \"#fff\"\n", "digest.toml:7: colours.brnd: unknown key: did you mean 'brand'?"),
        (BASE + '[[social]]\nplatform = "facebok"\nurl = "https://facebook.com/x"\n', "digest.toml:7: social[1].platform: the default theme has no 'facebok'; did you mean 'facebook'?"),
        (BASE + '[[social]]\nplatform = "x"\nurl = "https://x.com/a"\n[[social]]\nplatform = "x"\nurl = "ftp://x"\n',
         "digest.toml:11: social[2].url: the link 'ftp://x' must start with"),
        (BASE + '[[social]]\nplatform = "x"\n', "digest.toml:6: 'social[1].url' is missing"),
        # A list over several lines: the keys after it keep their lines.
        (BASE + 'unsubscribe = [\n  "mailto:u@testnews.example",\n]\nlanguage = "English"\n', "digest.toml:9: language: 'English' is not a language code"),
        (BASE + 'logo = "logo.png"\n', "digest.toml:6: logo: must be a table"),
        (BASE + 'logo = { src = "nope.png", alt = "Logo" }\n', "digest.toml:6: logo.src: no image file at 'nope.png'"),
        (BASE + 'footer = "[x](javascript:alert(1))"\n', "digest.toml:6: footer: the link 'javascript:alert(1)' must start with"),
        (BASE + "name = \"again\"\n", "digest.toml:6: name: appears twice (first on line 1): delete one of them"),
        ('name = "unclosed\n', "digest.toml:1: name: the quote \" that starts this value is never closed: end the value with \""),
        (b'name = "caf\xe9"\n', "digest.toml:1: is not UTF-8 text: save it as UTF-8"),
    ],
)
def test_bad_config_names_line_and_key(newsletter, monkeypatch, text, expected):
    monkeypatch.chdir(newsletter.root)
    assert error_of(newsletter, text).startswith(expected)


def test_social_icons_need_asset_base_url(newsletter, monkeypatch):
    monkeypatch.chdir(newsletter.root)
    text = BASE.replace('asset_base_url = "https://cdn.testnews.example/news"\n', "")
    message = error_of(newsletter, text + '[[social]]\nplatform = "x"\nurl = "https://x.com/a"\n')
    assert message.startswith("digest.toml:6: social[1].platform: social icons need asset_base_url")


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "digest.toml")
