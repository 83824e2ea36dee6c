"""Every ``kumin epi`` command and ``kumin report epi``, with arguments that parse
and the action each needs (merged into tests/core/test_permissions.py's walk).

``epi rt`` is listed in its database mode (no ``--counts``): that mode needs a
sign-in and ``epi.run``; the counts-file mode is open to anyone and is tested in
test_cli_counts.py.
"""

COMMANDS = {
    "epi curve": (["--by", "town", "--format", "csv"], "epi.run"),
    "epi delays": (["--format", "json"], "epi.run"),
    "epi nowcast": (["--max-delay", "14"], "epi.run"),
    "epi rt": (["--method", "cori", "--window", "7", "--format", "csv"], "epi.run"),
    "epi growth": (["--by", "age"], "epi.run"),
    "epi seir": (["--horizon", "10"], "epi.run"),
    "epi backtest": (["--dates", "2"], "epi.run"),
    "report epi": (["--format", "html", "--lang", "en"], "epi.report"),
}
