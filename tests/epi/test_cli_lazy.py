"""The lazy root group of ``kumin`` (#12): a command imports only its own part.

``kumin.cli.main.HOMES`` says which parts' ``register`` add each top-level name;
a wrong entry would hide commands (``synth cards`` without cards). These tests
record, in a fresh process, which Typer app every part registers on, and check
the table against it; and that ``kumin epi rt --counts`` starts without
SQLAlchemy or another domain.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[2] / "src")

_RECORD = textwrap.dedent(
    """
    import json, typer
    from kumin.cli import main

    touched = []  # (part, id of the Typer registered on, name registered)
    current = [None]

    def spy_on(method):
        original = getattr(typer.Typer, method)
        def spy(self, *a, **k):
            name = k.get("name") if method == "add_typer" else (a[0] if a else k.get("name"))
            touched.append((current[0], id(self), name))
            return original(self, *a, **k)
        setattr(typer.Typer, method, spy)

    # a part's modules decorate their own apps when imported; what matters is what
    # its register() adds, and where: import every CLI module first, then spy
    import importlib
    from kumin.domains import module_names
    for module in module_names("cli") + ["kumin.cli.core_cmds", "kumin.cli.account_cmds"]:
        importlib.import_module(module)
    spy_on("command")
    spy_on("add_typer")
    for part, register in main._parts().items():
        current[0] = part
        main._loaded.add(part)
        register(main.app)
    owner = {}  # every Typer app -> the top-level names it hangs under (may be shared)
    def walk(app, top):
        owner.setdefault(id(app), set()).add(top)
        for group in app.registered_groups:
            walk(group.typer_instance, top or group.name)
    walk(main.app, None)
    homes = {}
    for part, app_id, name in touched:
        for top in owner.get(app_id, {"?"}):
            homes.setdefault(top or name, set()).add(part)  # on the root: the name itself
    print(json.dumps({
        "homes": {k: sorted(v) for k, v in homes.items()},
        "table": {k: list(v) for k, v in main.HOMES.items()},
    }))
    """
)


def _run(code: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": SRC, "PATH": "/usr/bin:/bin", "KUMIN_LANG": "en"},
        check=False,
    )


def test_the_table_of_homes_matches_what_each_part_registers():
    r = _run(_RECORD)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    homes, table = got["homes"], got["table"]
    assert "?" not in homes, "a part registered on an app that is not in the tree"
    for name, parts in table.items():
        assert name in homes, f"{name} is in HOMES but no part registers it"
        # loading only the parts of the table must bring everything under the name
        assert set(homes[name]) <= set(parts), (name, homes[name], parts)
    assert {"epi", "synth", "users", "report"} <= set(homes)


def test_counts_command_imports_no_database_and_no_other_domain(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("date,count\n" + "".join(f"2021-06-{d:02d},{d}\n" for d in range(1, 29)))
    code = textwrap.dedent(
        """
        import sys
        from kumin.cli.main import run
        try:
            run(sys.argv[1:])
        except SystemExit as exc:
            assert not exc.code, exc.code
        heavy = [m for m in sys.modules if m.split(".")[0] in ("sqlalchemy", "rich")
                 or m.startswith(("kumin.cases", "kumin.cards", "kumin.juki", "kumin.oplog",
                                  "kumin.resources", "kumin.web", "kumin.core.db"))]
        print("HEAVY", heavy, file=sys.stderr)
        """
    )
    r = _run(code, "epi", "rt", "--counts", str(path), "--format", "csv")
    assert "r_mean" in r.stdout, r.stderr
    assert "HEAVY []" in r.stderr, r.stderr


def test_help_lists_every_group_and_a_group_alone_loads_only_itself():
    from typer.testing import CliRunner

    from kumin.cli.main import app

    result = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for name in ("epi", "cases", "cards", "juki", "oplog", "report", "synth", "users", "calls"):
        assert f" {name} " in result.output, name
    code = "from kumin.cli.main import run, _loaded; run(['epi', '--help'])"
    code = code.replace("run(['epi', '--help'])", "import sys\ntry: run(['epi', '--help'])\n"
                        "except SystemExit: print(sorted(_loaded))")  # fmt: skip
    r = _run(code)
    assert "['epi']" in r.stdout and "rt" in r.stdout, r.stdout + r.stderr
