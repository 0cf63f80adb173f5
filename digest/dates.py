"""Dates as editors write them (2024-06-04) and as readers read them (4 June 2024)."""

from __future__ import annotations

import datetime
import re

_ISO = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def iso_date(text: str) -> datetime.date:
    """`text` as a date written YYYY-MM-DD, and only so: fromisoformat also takes 20240514 and 2024-W20-2.
    ValueError for anything else."""
    if not _ISO.fullmatch(text):
        raise ValueError(f"{text!r} is not YYYY-MM-DD")
    return datetime.date.fromisoformat(text)


def date_problem(text: str) -> str:
    """Why `text` is no date, in words: `2026-11-31` is written as asked, and is still no day."""
    if _ISO.fullmatch(text):
        year, month, day = map(int, text.split("-"))
        if not 1 <= month <= 12:
            return f"{text!r} is not a date: there is no month {month} (write it as YYYY-MM-DD)"
        if day == 0:
            return f"{text!r} is not a date: days start at 1 (write it as YYYY-MM-DD)"
        if year >= 1:
            import calendar

            days = calendar.monthrange(year, month)[1]
            return f"{text!r} is not a date: {datetime.date(year, month, 1):%B %Y} has {days} days"
    return f"{text!r} is not a date: write it as YYYY-MM-DD, e.g. 2024-05-14"


def longdate(date: datetime.date) -> str:
    """4 June 2024."""
    return f"{date.day} {date:%B %Y}"
