"""Personal fields are encrypted at rest; rotation keeps them; shredding kills them."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from kumin.core import crypto
from kumin.core.db import dispose_engine, session_scope
from kumin.errors import ConfigError, NotFound

SECRETS = ["世田谷太郎", "1980-04-01", "HERSYS-0042-9931", "三軒茶屋二丁目14番3号"]


def _store(settings, dataset="cases"):
    with session_scope(settings) as s:
        ring = crypto.Keyring(s, settings.key_file)
        tokens = [ring.encrypt(dataset, v) for v in SECRETS]
        index = ring.index(dataset, SECRETS[2])
        s.execute(
            text("CREATE TABLE IF NOT EXISTS probe (id SERIAL PRIMARY KEY, v BYTEA)")
            if settings.database_url.startswith("postgresql")
            else text("CREATE TABLE IF NOT EXISTS probe (id INTEGER PRIMARY KEY, v BLOB)")
        )
        for tok in tokens:
            s.execute(text("INSERT INTO probe (v) VALUES (:v)"), {"v": tok})
    return tokens, index


def _raw_database_bytes(settings) -> bytes:
    if settings.database_url.startswith("sqlite"):
        dispose_engine(settings)
        path = Path(settings.database_url.removeprefix("sqlite:///"))
        return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    with session_scope(settings) as s:
        tables = (
            s.execute(text("SELECT tablename FROM pg_tables WHERE schemaname='public'"))
            .scalars()
            .all()
        )
        dump = []
        for t in tables:
            dump += [str(r) for r in s.execute(text(f'SELECT t::text FROM "{t}" t'))]
    return "\n".join(dump).encode()


def test_no_plaintext_in_database(fresh_db):
    tokens, _ = _store(fresh_db)
    raw = _raw_database_bytes(fresh_db)
    for value in SECRETS:
        assert value.encode() not in raw
        assert value.encode("utf-16-le") not in raw
    with session_scope(fresh_db) as s:
        ring = crypto.Keyring(s, fresh_db.key_file)
        assert [ring.decrypt("cases", t) for t in tokens] == SECRETS


def test_value_from_another_dataset_does_not_decrypt(sqlite_db):
    tokens, _ = _store(sqlite_db, "cards")
    _store(sqlite_db, "cases")
    with session_scope(sqlite_db) as s:
        ring = crypto.Keyring(s, sqlite_db.key_file)
        with pytest.raises(ConfigError):
            ring.decrypt("cases", tokens[0])


def test_rotation_rewraps_and_keeps_values(fresh_db):
    tokens, index = _store(fresh_db)
    old = crypto.read_key_file(fresh_db.key_file)
    with session_scope(fresh_db) as s:
        _, new_id, count = crypto.rotate_master_key(s, fresh_db.key_file)
    crypto.finish_rotation(fresh_db.key_file)
    assert count == 1 and new_id != old.key_id
    assert stat.S_IMODE(fresh_db.key_file.stat().st_mode) == 0o600
    with session_scope(fresh_db) as s:
        ring = crypto.Keyring(s, fresh_db.key_file)
        assert ring.decrypt("cases", tokens[0]) == SECRETS[0]
        assert ring.index("cases", SECRETS[2]) == index
    # The old master key no longer opens anything.
    crypto.write_key_file(fresh_db.key_file, old)
    with session_scope(fresh_db) as s, pytest.raises(ConfigError):
        crypto.Keyring(s, fresh_db.key_file).decrypt("cases", tokens[0])


def test_interrupted_rotation_is_finished(sqlite_db):
    tokens, _ = _store(sqlite_db)
    with session_scope(sqlite_db) as s:
        crypto.rotate_master_key(s, sqlite_db.key_file)
    # crash before finish_rotation: the .new file is still beside the old key
    with session_scope(sqlite_db) as s:
        crypto.recover_interrupted_rotation(s, sqlite_db.key_file)
    with session_scope(sqlite_db) as s:
        assert crypto.Keyring(s, sqlite_db.key_file).decrypt("cases", tokens[1]) == SECRETS[1]


def test_shredding_makes_fields_unreadable_forever(fresh_db):
    tokens, _ = _store(fresh_db, "release:7")
    with session_scope(fresh_db) as s:
        assert crypto.Keyring(s, fresh_db.key_file).destroy("release:7")
    with session_scope(fresh_db) as s:
        ring = crypto.Keyring(s, fresh_db.key_file)
        with pytest.raises(NotFound):
            ring.decrypt("release:7", tokens[0])
        row = s.execute(text("SELECT wrapped FROM data_keys WHERE dataset='release:7'")).one()
        assert row[0] is None


def test_key_file_must_be_private(tmp_path):
    path = tmp_path / "k.key"
    assert crypto.ensure_key_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not crypto.ensure_key_file(path)
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError, match="too open"):
        crypto.read_key_file(path)


def test_cli_keys_rotate_and_destroy(cli, users):
    _store(cli.settings)
    admin = users.by_role["admin"]
    r = cli("keys", "rotate", user=admin)
    assert r.exit_code == 0, r.output
    r = cli("keys", "destroy", "cases", user=admin)
    assert r.exit_code == 1 and "--yes" in r.stderr
    r = cli("keys", "destroy", "cases", "--yes", user=admin)
    assert r.exit_code == 0, r.output
    listing = cli("keys", "list", "--format", "json", user=admin)
    assert '"destroyed"' in listing.stdout
