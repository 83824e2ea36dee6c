"""The domains are declared once (kumin.domains) and nothing is silently skipped."""

from __future__ import annotations

from importlib import resources

import pytest

from kumin.domains import DOMAINS, PARTS, import_part, module_names, template_domains


@pytest.mark.parametrize("part", [*PARTS, "report"])
def test_every_declared_module_exists(part):
    assert len(import_part(part)) == len(module_names(part))


def test_every_domain_module_on_disk_is_declared():
    root = resources.files("kumin")
    names = {d.name for d in DOMAINS}
    for package in root.iterdir():
        if not package.is_dir() or package.name.startswith("_"):
            continue
        for part in PARTS:
            if (package / f"{part}.py").is_file() and package.name in names:
                assert f"kumin.{package.name}.{part}" in module_names(part), (package.name, part)
        if (package / "templates").is_dir() and package.name != "web":
            assert package.name in template_domains(), package.name


def test_a_missing_declared_module_fails_loudly(monkeypatch):
    import kumin.domains as domains

    monkeypatch.setattr(domains, "DOMAINS", (*DOMAINS, domains.Domain("nowhere", web=True)))
    with pytest.raises(ModuleNotFoundError):
        domains.import_part("web")
