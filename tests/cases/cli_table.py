"""Every command of the cases domain with arguments that parse, and the action it needs
(merged into tests/core/test_permissions.py's walk over all roles)."""

COMMANDS: dict[str, tuple[list[str], str | None]] = {
    "cases import": (["missing-file.csv"], "cases.import"),
    "cases summary": (["--format", "json"], "cases.summary"),
    # made-up residents: open to anyone, without a sign-in (#14)
    "synth cases": (["--out", "/nonexistent-dir/x/cases.csv", "--n", "10"], None),
    "contracts add": (
        [
            "--title",
            "t",
            "--start",
            "2021-11-01",
            "--end",
            "2022-06-30",
            "--contractor",
            "A",
            "--item",
            "年代",
            "--researcher",
            "nobody-here",
        ],
        "contracts.manage",
    ),
    "contracts list": ([], "contracts.read"),
    "contracts show": (["NO-SUCH"], "contracts.read"),
    "release create": (["NO-SUCH", "--out", "/tmp/kumin-release-never"], "release.create"),
    "release preview": (["NO-SUCH", "--format", "json"], "release.create"),
    "release list": ([], "release.list"),
    "release dispose": (["NO-SUCH"], "release.dispose"),
    "release certificate": (["NO-SUCH", "--out", "/tmp/kumin-cert-never.pdf"], "contracts.read"),
    "housekeeping": ([], "housekeeping.run"),
    "report outsourcing": (["NO-SUCH"], "contracts.read"),
}
