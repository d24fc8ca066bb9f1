"""Reading preferences, kept in a cookie and applied by the server on the first paint."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode

COOKIE = "webreader_prefs"
COOKIE_MAX_AGE = 365 * 24 * 3600

# Each preference: its choices in display order, the first being the default.
CHOICES: dict[str, dict[str, str]] = {
    "theme": {"system": "Same as the system", "light": "Light", "dark": "Dark"},
    "font": {"medium": "Medium", "small": "Small", "large": "Large", "x-large": "Extra large"},
    "width": {"medium": "Medium", "narrow": "Narrow", "wide": "Wide"},
    # How many of the newest unread articles this browser keeps for reading offline.
    "kept": {"100": "100", "50": "50", "200": "200", "500": "500", "0": "None"},
}
LABELS = {
    "theme": "Theme",
    "font": "Text size",
    "width": "Line width",
    "kept": "Articles kept for reading offline",
}
DEFAULTS = {name: next(iter(choices)) for name, choices in CHOICES.items()}


def parse(values: Mapping[str, str]) -> dict[str, str]:
    """Known preferences with valid values; anything else falls back to the default."""
    return {
        name: values[name] if values.get(name) in choices else DEFAULTS[name]
        for name, choices in CHOICES.items()
    }


def from_cookie(cookie: str | None) -> dict[str, str]:
    return parse(dict(parse_qsl(cookie or "")))


def to_cookie(prefs: Mapping[str, str]) -> str:
    return urlencode(parse(prefs))
