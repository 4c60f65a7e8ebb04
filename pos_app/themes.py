"""Theme files: small TOML files, validated with pydantic, registered with Textual.

The built-in themes are the `*.toml` files in `pos_app/builtin_themes/`, package data:
a checkout and an installed wheel read them from the same place in the package.
A user adds themes as `*.toml` files in `<config dir>/themes/` (e.g.
`~/.config/paygate/themes/`); a user file with a built-in name replaces the built-in.

A file that is not valid TOML or not a valid theme is skipped and reported, never
fatal: the terminal starts on the default theme and says which file is wrong.
The chosen theme is remembered in `<config dir>/ui.toml`.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from textual.color import Color, ColorParseError
from textual.theme import Theme

DEFAULT_THEME = "paygate-dark"
_ALPHA = re.compile(r"^(?P<color>.+?)\s+(?P<percent>[0-9]{1,3})%$")


def _check_colour(value: str) -> str:
    """A colour Textual can parse, optionally followed by an alpha like `40%`."""
    text = value.strip()
    match = _ALPHA.match(text)
    if match:
        if not 0 <= int(match["percent"]) <= 100:
            raise ValueError(f"{value!r}: alpha must be 0% to 100%")
        text = match["color"]
    try:
        Color.parse(text)
    except ColorParseError:
        raise ValueError(f"{value!r} is not a colour (use #rrggbb, rgb(...) or a name)") from None
    return value.strip()


class ThemeFile(BaseModel):
    """What a theme file may hold. Colours are checked here, not at first paint."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")
    description: str = ""
    dark: bool = True
    primary: str
    secondary: str | None = None
    accent: str | None = None
    foreground: str | None = None
    background: str | None = None
    surface: str | None = None
    panel: str | None = None
    boost: str | None = None
    success: str | None = None
    warning: str | None = None
    error: str | None = None
    luminosity_spread: float = Field(default=0.15, ge=0, le=1)
    text_alpha: float = Field(default=0.95, ge=0, le=1)
    variables: dict[str, str] = {}

    @field_validator(
        "primary",
        "secondary",
        "accent",
        "foreground",
        "background",
        "surface",
        "panel",
        "boost",
        "success",
        "warning",
        "error",
    )
    @classmethod
    def _colour(cls, value: str | None) -> str | None:
        return None if value is None else _check_colour(value)

    @field_validator("variables")
    @classmethod
    def _variables(cls, value: dict[str, str]) -> dict[str, str]:
        for key, colour in value.items():
            if not re.fullmatch(r"[a-z][a-z0-9-]*", key):
                raise ValueError(f"variable name {key!r}: lower-case letters, digits and '-'")
            _check_colour(colour)
        return value

    def to_theme(self) -> Theme:
        """The Textual theme."""
        return Theme(**self.model_dump(exclude={"description"}))


@dataclass
class ThemeSet:
    """The themes found, in load order, and one line per file that was refused."""

    themes: dict[str, ThemeFile] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def builtin_theme_dir() -> Traversable:
    """Where the built-in theme files are: `builtin_themes/`, package data of pos_app."""
    return resources.files("pos_app") / "builtin_themes"


def user_theme_dir(config_dir: Path) -> Path:
    """Where a user's own theme files go."""
    return config_dir / "themes"


def parse_theme(text: str, source: str) -> ThemeFile:
    """One theme file's text → ThemeFile; `ValueError` with one readable line if bad."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"theme file {source} is not valid TOML ({exc})") from None
    try:
        return ThemeFile(**data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "file"
        message = str(err["msg"]).removeprefix("Value error, ")
        raise ValueError(f"theme file {source}: {where}: {message}") from None


def _files(folder: Traversable) -> list[Traversable]:
    try:
        return sorted(
            (f for f in folder.iterdir() if f.name.endswith(".toml") and f.is_file()),
            key=lambda f: f.name,
        )
    except (FileNotFoundError, NotADirectoryError):
        return []


def load_themes(config_dir: Path | None) -> ThemeSet:
    """The built-in themes, then the user's (a user file may replace a built-in)."""
    found = ThemeSet()
    folders: list[Traversable] = [builtin_theme_dir()]
    if config_dir is not None:
        folders.append(user_theme_dir(config_dir))
    for folder in folders:
        for file in _files(folder):
            try:
                theme = parse_theme(file.read_text(encoding="utf-8"), file.name)
            except (ValueError, OSError, UnicodeDecodeError) as exc:
                found.problems.append(str(exc))
                continue
            found.themes[theme.name] = theme
    return found


# ---------------------------------------------------------------------------- ui.toml
def ui_file(config_dir: Path) -> Path:
    """The small file where the terminal remembers the user's choices."""
    return config_dir / "ui.toml"


def load_ui_prefs(config_dir: Path | None) -> dict[str, str]:
    """The remembered choices (an unreadable file counts as none)."""
    if config_dir is None:
        return {}
    try:
        data = tomllib.loads(ui_file(config_dir).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, str)}


def save_ui_prefs(config_dir: Path | None, **prefs: str) -> None:
    """Remember choices (merged with what is remembered already)."""
    if config_dir is None:
        return
    merged = {**load_ui_prefs(config_dir), **prefs}
    lines = ["# Written by the paygate terminal: the choices it remembers."]
    # A JSON string is a valid TOML basic string for the text we write (names).
    lines += [f"{key} = {json.dumps(value)}" for key, value in sorted(merged.items())]
    config_dir.mkdir(parents=True, exist_ok=True)
    ui_file(config_dir).write_text("\n".join(lines) + "\n", encoding="utf-8")
