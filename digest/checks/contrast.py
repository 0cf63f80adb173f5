"""Colour contrast of the pairs the theme paints text with, light and dark, against WCAG 2.1 AA."""

from __future__ import annotations

from digest.checks.base import in_config
from digest.model import ERROR, Finding, Result


def check_contrast(result: Result) -> list[Finding]:
    """Each pair of colours the theme paints text with (its theme.toml's `contrast`), with the newsletter's colours."""
    colours = result.newsletter.colours
    typed = result.newsletter.source.keys
    theme = result.newsletter.theme

    def set_at(name: str) -> dict | None:
        """Where the editor set colour `name`: digest.toml's [colours], else a theme.toml of theirs."""
        if f"colours.{name}" in typed:
            return in_config(result, f"colours.{name}")
        if name in theme.colours_set_in:
            path, line = theme.colours_set_in[name]
            return dict(path=path, line=line, field=f"colours.{name}")
        return None
    pairs: dict[tuple[str, str], tuple[str, float]] = {}
    for fg, bg, what, least in result.newsletter.theme.contrast:
        if least > pairs.get((fg, bg), ("", 0.0))[1]:  # a pair that also paints small text needs what small text needs
            pairs[(fg, bg)] = (what, least)
    findings = []
    for (fg, bg), (what, least) in pairs.items():
        ratio = contrast(getattr(colours, fg), getattr(colours, bg))
        if ratio >= least:
            continue
        # Name the colour the editor set; where both are theirs, the text's.
        blame = fg if _rank(set_at(fg), result) >= _rank(set_at(bg), result) else bg
        other = bg if blame == fg else fg
        # Away from the other colour: 0.18 is the luminance as far from black as from white.
        fix = f"make {blame} {'darker' if luminance(getattr(colours, other)) > 0.18 else 'lighter'}"
        place = set_at(blame) or in_config(result, f"colours.{blame}")
        if place["line"] is None and place["path"] == result.newsletter.config_path:
            place = in_config(result, "colours")
            place["field"] = f"colours.{blame}"
        findings.append(Finding("contrast", ERROR, f"{fg} {getattr(colours, fg)} on {bg} {getattr(colours, bg)} "
                                f"({what}) has a contrast of {ratio:.2f}:1, below the {least:g}:1 that WCAG 2.1 AA "
                                f"asks for{' large text' if least < 4.5 else ''}: {fix}", **place))
    return findings


def _rank(place: dict | None, result: Result) -> int:
    """Which colour of a pair to name: one set in digest.toml, then one in a theme.toml of the editor's (a
    copied theme sets them all), then the text's."""
    return 0 if place is None else 2 if place["path"] == result.newsletter.config_path else 1


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def luminance(colour: str) -> float:
    """WCAG 2.1 relative luminance of '#rgb' or '#rrggbb'."""
    hex_ = colour.lstrip("#")
    if len(hex_) == 3:
        hex_ = "".join(c * 2 for c in hex_)
    channels = [int(hex_[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b

