"""Column profiles are data files; users add their own without code."""

from __future__ import annotations

from pathlib import Path

import pytest

from kumin.cases.profiles import FIELDS, header_key, id_template, list_profiles, load_profile
from kumin.errors import DataError, NotFound

REPORT_ITEMS = [
    "HER-SYS ID", "生年月日", "年代", "性別", "国籍", "居住地", "住所（町名まで）", "発病年月日",
    "初診年月日", "検体採取日", "結果判明日", "症状", "ワクチン接種歴", "療養先",
]  # fmt: skip


def test_builtin_profiles() -> None:
    assert {"hersys", "kumin", "nishiura"} <= set(list_profiles())
    hersys = load_profile("hersys")
    assert hersys.headers == REPORT_ITEMS
    kumin = load_profile("kumin")
    assert all(h.isascii() and h == h.lower() for h in kumin.headers)
    assert set(kumin.columns) <= set(FIELDS)
    nishiura = load_profile("nishiura")
    assert id_template(nishiura) and "NA" in nishiura.missing
    assert id_template(nishiura).format(line=2) == "NISHIURA-000002"


def _write(folder: Path, name: str, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_user_profile_from_env_and_from_settings(tmp_path: Path, monkeypatch) -> None:
    body = 'name = "myward"\n[columns]\nhersys_id = "患者番号"\nonset_date = "発症日"\n'
    _write(tmp_path / "env", "myward", body)
    monkeypatch.setenv("KUMIN_PROFILE_DIR", str(tmp_path / "env"))
    assert "myward" in list_profiles()
    columns = load_profile("myward").columns
    assert {f: c.header for f, c in columns.items()} == {
        "hersys_id": "患者番号",
        "onset_date": "発症日",
    }
    monkeypatch.delenv("KUMIN_PROFILE_DIR")
    with pytest.raises(NotFound):
        load_profile("myward")
    _write(tmp_path / "settings", "other", body.replace("myward", "other"))
    assert load_profile("other", [tmp_path / "settings"]).name == "other"
    path = _write(tmp_path, "direct", body)
    with pytest.raises(NotFound):  # a name from the profile folders, never a path (issue 10)
        load_profile(str(path))


def test_local_profile_may_replace_a_builtin(tmp_path: Path) -> None:
    _write(tmp_path, "hersys", '[columns]\nhersys_id = "ID"\n')
    assert load_profile("hersys", [tmp_path]).headers == ["ID"]


def test_invalid_profile_lists_every_mistake(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "bad",
        'optional = ["nope"]\nmissing = "NA"\n[columns]\nonset_date = "a"\nshoe_size = "b"\n'
        'result_date = " "\n',
    )
    with pytest.raises(DataError) as info:
        load_profile("bad", [tmp_path])
    keys = {p.key for p in info.value.problems}
    assert keys == {
        "core.profile.unknown_field",
        "core.profile.bad_column",
        "core.profile.bad_list",
    }
    assert len(info.value.problems) == 4  # shoe_size, " ", optional, missing
    _write(tmp_path, "noid", '[columns]\nonset_date = "a"\n')
    with pytest.raises(DataError) as info:
        load_profile("noid", [tmp_path])
    assert [p.key for p in info.value.problems] == ["cases.profile.no_id"]
    _write(tmp_path, "broken", "[columns\n")
    with pytest.raises(DataError) as info:
        load_profile("broken", [tmp_path])
    assert info.value.problems[0].key == "core.profile.not_toml"


def test_not_found_names_the_available_ones() -> None:
    with pytest.raises(NotFound) as info:
        load_profile("nosuch")
    assert "hersys" in info.value.params["available"]
    assert "nosuch" in info.value.render("ja")


def test_header_key() -> None:
    assert header_key("住所(町名まで)") == header_key("住所（町名まで）")
    assert header_key(" HER-SYS  ID ") == header_key("ＨＥＲ－ＳＹＳ ＩＤ")
