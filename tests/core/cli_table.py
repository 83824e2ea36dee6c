"""Commands of the core that live outside tests/core/test_permissions.py's own
table: the import profiles of every domain (public: no personal data)."""

COMMANDS: dict[str, tuple[list[str], str | None]] = {
    "profiles list": ([], None),
    "profiles show": (["hersys"], None),
}
