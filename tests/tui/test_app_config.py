"""The terminal's settings and parts: themes, remapped keys, the command, the layout
rules, and the small pure pieces (amount keys, the masked card field, large type)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from app_support import build_app, drive, login, on_screen, press, screen_text, typ, wait_for

from gateway_core.clock import FixedClock
from gateway_core.settings import Settings
from paygate_cli import terminal as app_module
from paygate_cli.terminal import reset_demo_dir, run_app
from pos_app.app import PaygateApp
from pos_app.screens.state import SaleDraft, typed_display
from pos_app.themes import DEFAULT_THEME, load_themes, parse_theme
from pos_app.widgets.bigtext import big_width, render_big
from pos_app.widgets.card_number import live_mask

ROOT = Path(__file__).resolve().parents[2]
STYLES = ROOT / "pos_app" / "styles"


# ---------------------------------------------------------------------------- themes
def test_the_three_theme_files_are_valid_and_distinct() -> None:
    found = load_themes(None)
    assert found.problems == []
    assert {"paygate-dark", "receipt-paper", "high-contrast"} <= set(found.themes)
    assert found.themes["receipt-paper"].dark is False
    assert found.themes[DEFAULT_THEME].dark is True
    for theme in found.themes.values():
        theme.to_theme()  # Textual accepts it


def test_a_bad_theme_file_is_refused_with_a_readable_reason() -> None:
    with pytest.raises(ValueError, match=r"theme file x\.toml: primary: 'notacolour' is not"):
        parse_theme('name = "x"\nprimary = "notacolour"\n', "x.toml")
    with pytest.raises(ValueError, match=r"theme file y\.toml is not valid TOML"):
        parse_theme("name = \n", "y.toml")
    with pytest.raises(ValueError, match=r"theme file z\.toml: colour: Extra inputs"):
        parse_theme('name = "z"\nprimary = "#ffffff"\ncolour = "red"\n', "z.toml")


def test_layout_uses_theme_variables_only() -> None:
    css = "\n".join(p.read_text(encoding="utf-8") for p in STYLES.glob("*.tcss"))
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    assert not re.search(r"#[0-9a-fA-F]{3,8}\b(?![-\w])(?=[^{]*;)", css), "hex colour in CSS"
    assert not re.search(r"\b(rgb|rgba|hsl|hsla)\(", css)
    colour_words = r"\b(red|green|blue|white|black|yellow|cyan|magenta|grey|gray|orange)\b"
    for line in css.splitlines():
        if re.search(r"\b(color|background|border[\w-]*|tint)\s*:", line):
            assert not re.search(colour_words, line), line


async def test_theme_switch_is_remembered(
    settings: Settings, clock: FixedClock, tmp_path: Path
) -> None:
    config = tmp_path / "config"
    app = build_app(settings, clock, config)
    async with drive(app) as pilot:
        await login(pilot)
        assert app.theme == DEFAULT_THEME
        await press(pilot, "ctrl+t")
        first = app.theme
        assert first != DEFAULT_THEME and first in app.theme_names
        # the command palette offers the themes too
        await press(pilot, "ctrl+p")
        await on_screen(pilot, "TerminalPalette")
        await typ(pilot, "receipt")
        await wait_for(pilot, lambda: "Theme: receipt-paper" in screen_text(app))
        await press(pilot, "enter")
        await wait_for(pilot, lambda: app.theme == "receipt-paper")
    saved = tomllib.loads((config / "ui.toml").read_text(encoding="utf-8"))
    assert saved["theme"] == "receipt-paper"
    again = build_app(settings, clock, config)
    async with drive(again) as pilot:
        await on_screen(pilot, "LoginScreen")
        assert again.theme == "receipt-paper"


async def test_user_themes_load_and_a_bad_one_falls_back_with_a_note(
    settings: Settings, clock: FixedClock, tmp_path: Path
) -> None:
    config = tmp_path / "config"
    (config / "themes").mkdir(parents=True)
    (config / "themes" / "night-shift.toml").write_text(
        'name = "night-shift"\nprimary = "#ff8800"\nbackground = "#000010"\n', encoding="utf-8"
    )
    (config / "themes" / "broken.toml").write_text(
        'name = "broken"\nprimary = "not-a-colour"\n', encoding="utf-8"
    )
    (config / "ui.toml").write_text('theme = "broken"\n', encoding="utf-8")
    app = build_app(settings, clock, config)
    async with drive(app) as pilot:
        await on_screen(pilot, "LoginScreen")
        assert "night-shift" in app.theme_names and "broken" not in app.theme_names
        assert app.theme == DEFAULT_THEME
        notes = [n.message for n in app._notifications]
        assert any("broken.toml: primary" in n for n in notes), notes
        assert any("theme 'broken' is not available" in n for n in notes), notes


# ---------------------------------------------------------------------------- keys
def test_every_binding_has_an_id_and_a_tooltip(
    settings: Settings, clock: FixedClock, tmp_path: Path
) -> None:
    app = build_app(settings, clock, tmp_path / "config")
    try:
        ids = []
        for _group, bindings in app.keys.binding_groups():
            for binding in bindings:
                assert binding.id and binding.tooltip, binding
                ids.append(binding.id)
        # the same id twice only where one key shows in two places (quit, log out)
        assert {i for i in ids if ids.count(i) > 1} <= {"app.quit", "app.logout"}
    finally:
        app.rt.close()


async def test_a_remapped_key_works_and_help_shows_it(
    settings: Settings, clock: FixedClock, tmp_path: Path
) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "keys.toml").write_text(
        '"sale.tip" = "x"\n"app.help" = "f9"\n"no.such" = "f8"\n', encoding="utf-8"
    )
    app = build_app(settings, clock, config)
    async with drive(app) as pilot:
        await login(pilot)
        await press(pilot, "x")
        assert app.flow.draft.tip == "10"
        await press(pilot, "t")  # no longer bound: a letter in the amount
        assert app.flow.draft.tip == "10"
        await wait_for(pilot, lambda: "x Tip" in screen_text(app))  # the footer: the new key
        notes = [n.message for n in app._notifications]
        assert any("keys.toml: no binding 'no.such'" in n for n in notes), notes
        await press(pilot, "f9")
        await on_screen(pilot, "HelpScreen")
        help_keys = app.screen.query_one("#help-keys")
        text = _rendered(help_keys.content)
        assert re.search(r"\bx\s+Next tip", text), text
        assert re.search(r"\bf9\s+Every key", text)


def _rendered(renderable) -> str:
    from rich.console import Console

    console = Console(width=80, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(renderable)
    return console.export_text()


async def test_help_lists_every_key_and_the_test_cards(
    settings: Settings, clock: FixedClock, tmp_path: Path
) -> None:
    app = build_app(settings, clock, tmp_path / "config")
    async with drive(app) as pilot:
        await press(pilot, "f1")
        await on_screen(pilot, "HelpScreen")
        keys = _rendered(app.screen.query_one("#help-keys").content)
        for _group, bindings in app.keys.binding_groups():
            for binding in bindings:
                assert binding.id in keys
        cards = _rendered(app.screen.query_one("#help-cards").content)
        for number in ("4242 4242 4242 4242", "4000 0000 0000 3220", "4000 0000 0000 9094"):
            assert number in cards
        await press(pilot, "escape")
        await on_screen(pilot, "LoginScreen")


# ---------------------------------------------------------------------------- the command
def test_paygate_pos_needs_a_terminal(cli, tmp_path: Path) -> None:
    result = cli("pos", "--data-dir", tmp_path / "d")
    assert result.code == 2
    assert result.err == (
        "paygate: the terminal needs an interactive terminal; "
        "see `paygate --help` for the commands\n"
    )


def test_reset_empties_only_a_demo_data_dir(tmp_path: Path, cli) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.txt").write_text("years of work", encoding="utf-8")
    result = cli("--demo", "--reset", "--data-dir", precious)
    assert result.code == 2 and "not a demo data dir" in result.err
    assert (precious / "thesis.txt").exists()
    demo = tmp_path / "demo"
    (demo / "db").mkdir(parents=True)
    (demo / app_module.DEMO_MARKER).write_text("", encoding="utf-8")
    (demo / "db" / "main.journal.jsonl").write_text("{}", encoding="utf-8")
    reset_demo_dir(demo)
    assert not (demo / "db").exists() and (demo / app_module.DEMO_MARKER).exists()


def test_run_app_opens_the_demo_on_a_fresh_dir(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = {}

    async def fake_run(self: PaygateApp, **_kw) -> int:
        seen.update(
            demo=self.demo,
            latency=self.settings.bank_latency_ms,
            logins=[u.id for u in self.rt.access.list()],
        )
        return 0

    seeded = []
    monkeypatch.setattr(app_module, "_interactive", lambda: True)
    monkeypatch.setattr(PaygateApp, "run_async", fake_run)
    monkeypatch.setattr(
        "bank_sim.demo.seed_demo_history", lambda s, **kw: seeded.append(s.data_dir)
    )
    assert run_app(settings, demo=True, reset=False) == 0
    assert seen["demo"] is True and seen["latency"] == app_module.DEMO_LATENCY_MS
    assert {"asha", "meera"} <= set(seen["logins"])
    assert seeded == [settings.data_dir]
    assert (settings.data_dir / app_module.DEMO_MARKER).exists()
    assert run_app(settings, demo=True, reset=False) == 0  # kept: not seeded again
    assert seeded == [settings.data_dir]
    assert run_app(settings, demo=True, reset=True) == 0  # afresh
    assert seeded == [settings.data_dir, settings.data_dir]


# ---------------------------------------------------------------------------- pieces
@pytest.mark.parametrize(
    ("keys", "text", "problem"),
    [
        ("1250", "1250", None),
        ("0012.5", "12.5", None),
        ("12.345", "12.34", "INR amounts have at most 2 decimals"),
        ("1..", "1.", 'an amount has only one "."'),
        ("1000001", "100000", "the amount cannot be more than ₹1,00,000.00"),
    ],
)
def test_amount_keys(keys: str, text: str, problem: str | None) -> None:
    draft = SaleDraft("INR", 10_000_000)
    last = None
    for key in keys:
        last = draft.key(key) or last
    assert draft.amount_text == text
    assert last == problem


def test_amount_is_integer_minor_units_and_tips_round_half_up() -> None:
    draft = SaleDraft("INR", 10_000_000)
    for key in "99.99":
        draft.key(key)
    draft.tip = "15"
    assert draft.amount().minor == 9999
    assert draft.tip_amount().minor == 1500  # 1499.85 → 1500
    assert draft.total().minor == 11499
    assert typed_display("125000.5", "INR") == "1,25,000.5"
    assert typed_display("1250", "USD") == "1,250"
    jpy = SaleDraft("JPY", 10_000_000)
    assert jpy.key(".") == "JPY amounts have no decimals"


@pytest.mark.parametrize(
    ("digits", "shown"),
    [
        ("4242424242424242", "4242 42•• •••• 4242"),
        ("378282246310005", "3782 82•••• •0005"),
        ("30569309025904", "3056 9••••• 5904"),
        ("424242424", "•••• •242 4"),
        ("4111", "4111"),
    ],
)
def test_the_card_field_never_shows_more_than_bin6_and_last4(digits: str, shown: str) -> None:
    assert live_mask(digits) == shown
    visible = [ch for ch in live_mask(digits) if ch.isdigit()]
    if len(digits) >= 10:
        assert len(visible) <= 10 and len(digits) - len(visible) >= 5


def test_large_type_fits_the_result_panel() -> None:
    for word in ("APPROVED", "DECLINED", "CANCELED", "VOIDED", "REFUNDED", "UNKNOWN"):
        assert len(render_big(word)) == 3
        assert big_width(word) <= 36


async def test_a_palette_closed_twice_can_still_be_awaited(
    settings: Settings, clock: FixedClock, tmp_path: Path
) -> None:
    """Textual awaits `dismiss()` of each screen it pops (e.g. F2 under an open palette
    that an Enter is already closing): the second close is a no-op, not None."""
    app = build_app(settings, clock, tmp_path / "config")
    async with drive(app) as pilot:
        await login(pilot)
        await press(pilot, "ctrl+p")
        await on_screen(pilot, "TerminalPalette")
        palette = app.screen
        palette.dismiss()
        await palette.dismiss()  # closing already: completes at once
        await on_screen(pilot, "SaleScreen")
