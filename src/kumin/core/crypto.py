"""Envelope encryption of personal fields, key rotation and crypto-shredding.

The master key lives in a key file (``KUMIN_KEY_FILE``, mode 0600) and never in
the database. Each dataset (``cases``, ``cards``, ``release:12``, ``accounts`` …)
has its own AES-256 data key, stored wrapped by the master key. A field is stored
as ``version | data-key id | nonce | AES-GCM ciphertext`` with the dataset name as
associated data, so a value moved to another dataset's column fails to decrypt.

The audit chain is keyed by HMAC under a key derived (HKDF-SHA256) from the master
key. A rotated key file carries the chain key of the file it replaced
(``audit_key``), so the chain written before a rotation still verifies; the
derived key reveals nothing about the old master key.

Lookups on an encrypted field (e.g. matching a HER-SYS ID on re-import) use a
blind index: HMAC-SHA256 under a key derived from the data key, so the index
dies with the key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import stat
import struct
from dataclasses import dataclass, replace
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select
from sqlalchemy.orm import Session

from kumin.core.db import utcnow
from kumin.core.models import DataKey
from kumin.core.tabular import atomic_write_bytes
from kumin.errors import ConfigError, NotFound

VERSION = 1
_HEADER = struct.Struct(">BI")  # version, data-key id


_AUDIT_INFO = b"kumin audit chain v1"


@dataclass(frozen=True)
class MasterKey:
    key_id: str
    key: bytes
    audit_key: bytes | None = None  # carried over by a rotation, else derived

    def chain_key(self) -> bytes:
        """The HMAC key of the audit chain."""
        if self.audit_key is not None:
            return self.audit_key
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_AUDIT_INFO)
        return hkdf.derive(self.key)

    def wrap(self, data_key: bytes, dataset: str) -> bytes:
        nonce = secrets.token_bytes(12)
        return nonce + AESGCM(self.key).encrypt(nonce, data_key, f"wrap:{dataset}".encode())

    def unwrap(self, wrapped: bytes, dataset: str) -> bytes:
        try:
            return AESGCM(self.key).decrypt(wrapped[:12], wrapped[12:], f"wrap:{dataset}".encode())
        except InvalidTag:
            raise ConfigError("core.keys.wrong_master", dataset=dataset) from None


def new_master_key() -> MasterKey:
    return MasterKey(secrets.token_hex(8), secrets.token_bytes(32))


def write_key_file(path: Path, master: MasterKey) -> None:
    body = {"version": 1, "key_id": master.key_id, "key": base64.b64encode(master.key).decode()}
    if master.audit_key is not None:
        body["audit_key"] = base64.b64encode(master.audit_key).decode()
    atomic_write_bytes(path, json.dumps(body).encode(), mode=0o600)


def read_key_file(path: Path) -> MasterKey:
    if not path.is_file():
        raise ConfigError("core.keys.no_key_file", path=str(path))
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigError("core.keys.key_file_open", path=str(path), mode=oct(mode))
    try:
        body = json.loads(path.read_text("utf-8"))
        audit_key = base64.b64decode(body["audit_key"]) if "audit_key" in body else None
        return MasterKey(body["key_id"], base64.b64decode(body["key"]), audit_key)
    except (ValueError, KeyError, TypeError):
        raise ConfigError("core.keys.bad_key_file", path=str(path)) from None


_CHAIN_KEYS: dict[tuple[str, int, int, int], bytes] = {}


def audit_chain_key(path: Path) -> bytes:
    """The audit chain's HMAC key from the key file (cached while the file is unchanged)."""
    try:
        st = path.stat()
    except OSError:
        raise ConfigError("core.keys.no_key_file", path=str(path)) from None
    stamp = (str(path.resolve()), st.st_ino, st.st_mtime_ns, st.st_size)
    key = _CHAIN_KEYS.get(stamp)
    if key is None:
        key = read_key_file(path).chain_key()
        if len(_CHAIN_KEYS) > 16:  # one installation per process in practice
            _CHAIN_KEYS.clear()
        _CHAIN_KEYS[stamp] = key
    return key


def ensure_key_file(path: Path) -> bool:
    """Create the key file if missing. Returns True when a new key was made."""
    if path.exists():
        read_key_file(path)
        return False
    write_key_file(path, new_master_key())
    return True


class Keyring:
    """Encrypts and decrypts personal fields for one database session.

    Unwrapped data keys are cached for the life of the keyring only.
    """

    def __init__(self, session: Session, key_file: Path):
        self.session = session
        self.key_file = key_file
        self._master: MasterKey | None = None
        self._keys: dict[str, tuple[int, bytes]] = {}
        self._by_id: dict[int, tuple[str, bytes]] = {}

    @property
    def master(self) -> MasterKey:
        if self._master is None:
            self._master = read_key_file(self.key_file)
        return self._master

    def _load(self, dataset: str, create: bool) -> tuple[int, bytes]:
        cached = self._keys.get(dataset)
        if cached:
            return cached
        row = self.session.scalar(select(DataKey).where(DataKey.dataset == dataset))
        if row is None:
            if not create:
                raise NotFound("core.keys.no_dataset", dataset=dataset)
            raw = secrets.token_bytes(32)
            row = DataKey(
                dataset=dataset,
                wrapped=self.master.wrap(raw, dataset),
                master_id=self.master.key_id,
            )
            self.session.add(row)
            self.session.flush()
        elif row.wrapped is None:
            raise NotFound("core.keys.destroyed", dataset=dataset)
        else:
            raw = self.master.unwrap(row.wrapped, dataset)
        self._keys[dataset] = (row.id, raw)
        self._by_id[row.id] = (dataset, raw)
        return row.id, raw

    def encrypt(self, dataset: str, value: str | None) -> bytes | None:
        """Encrypt one field value (None stays None)."""
        if value is None:
            return None
        key_id, raw = self._load(dataset, create=True)
        nonce = secrets.token_bytes(12)
        ct = AESGCM(raw).encrypt(nonce, value.encode("utf-8"), dataset.encode())
        return _HEADER.pack(VERSION, key_id) + nonce + ct

    def decrypt(self, dataset: str, token: bytes | None) -> str | None:
        if token is None:
            return None
        version, key_id = _HEADER.unpack_from(token)
        if version != VERSION:
            raise ConfigError("core.keys.bad_token")
        found = self._by_id.get(key_id)
        if found is None:
            self._load(dataset, create=False)
            found = self._by_id.get(key_id)
        if found is None or found[0] != dataset:
            raise ConfigError("core.keys.bad_token")
        _, raw = found
        body = token[_HEADER.size :]
        try:
            return AESGCM(raw).decrypt(body[:12], body[12:], dataset.encode()).decode("utf-8")
        except InvalidTag:
            raise ConfigError("core.keys.bad_token") from None

    def index(self, dataset: str, value: str) -> str:
        """Blind index of a value for equality lookups within a dataset."""
        _, raw = self._load(dataset, create=True)
        index_key = hmac.new(raw, b"kumin-blind-index", hashlib.sha256).digest()
        return hmac.new(index_key, value.encode("utf-8"), hashlib.sha256).hexdigest()

    def derived_key(self, dataset: str, purpose: str) -> bytes:
        """A key derived from the dataset key for ``purpose`` (e.g. pseudonyms)."""
        _, raw = self._load(dataset, create=True)
        return hmac.new(raw, f"kumin:{purpose}".encode(), hashlib.sha256).digest()

    def destroy(self, dataset: str) -> bool:
        """Crypto-shred a dataset: its key is erased; its fields can never be read again."""
        row = self.session.scalar(select(DataKey).where(DataKey.dataset == dataset))
        if row is None or row.wrapped is None:
            return False
        row.wrapped = None
        row.destroyed_at = utcnow()
        self._keys.pop(dataset, None)
        self._by_id.pop(row.id, None)
        self.session.flush()
        return True


def rotate_master_key(session: Session, key_file: Path) -> tuple[str, str, int]:
    """Re-wrap every live data key under a new master key.

    The new key is written beside the old one first; the database is re-wrapped in
    the caller's transaction; :func:`finish_rotation` then moves the new file into
    place. A crash in between leaves both files, and the next run finishes the job.
    """
    old = read_key_file(key_file)
    # The audit chain keeps its key: entries written before the rotation still verify.
    new = replace(new_master_key(), audit_key=old.chain_key())
    pending = key_file.with_name(key_file.name + ".new")
    write_key_file(pending, new)
    count = 0
    for row in session.scalars(select(DataKey).where(DataKey.wrapped.is_not(None))):
        raw = old.unwrap(row.wrapped, row.dataset)
        row.wrapped = new.wrap(raw, row.dataset)
        row.master_id = new.key_id
        count += 1
    session.flush()
    return old.key_id, new.key_id, count


def finish_rotation(key_file: Path) -> None:
    pending = key_file.with_name(key_file.name + ".new")
    if pending.exists():
        os.replace(pending, key_file)


def recover_interrupted_rotation(session: Session, key_file: Path) -> None:
    """If a rotation committed but the new key file was not moved into place, move it."""
    pending = key_file.with_name(key_file.name + ".new")
    if not pending.exists():
        return
    new = read_key_file(pending)
    row = session.scalar(select(DataKey).where(DataKey.wrapped.is_not(None)).limit(1))
    if row is not None and row.master_id == new.key_id:
        os.replace(pending, key_file)
    else:
        pending.unlink()
