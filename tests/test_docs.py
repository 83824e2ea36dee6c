"""The README documents every setting and every command group (cf. datasette)."""

from __future__ import annotations

import re
from pathlib import Path

import typer

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text("utf-8")


def test_readme_starts_with_the_two_commands():
    first_block = README.split("```sh", 1)[1].split("```", 1)[0]
    assert [line.split()[:2] for line in first_block.strip().splitlines()] == [
        ["make", "demo"],
        ["make", "test"],
    ]


def test_every_setting_is_documented():
    source = (ROOT / "src" / "kumin" / "core" / "config.py").read_text("utf-8")
    for name in set(re.findall(r'"(KUMIN_[A-Z0-9_]+)"', source)):
        assert f"`{name}`" in README, f"{name} is not in the README"


def test_every_command_group_is_documented():
    from kumin.cli.main import app

    root = typer.main.get_command(app)
    for name in root.commands:
        assert f"kumin {name}" in README, f"'kumin {name}' is not in the README"
