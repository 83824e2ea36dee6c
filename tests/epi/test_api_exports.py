"""The public API of kumin.epi: a sorted ``__all__``, every name importable from
the package and identical to the object of the module that defines it."""

from __future__ import annotations

import importlib
import subprocess
import sys

import kumin.epi as epi


def test_all_is_sorted_and_unique():
    assert epi.__all__ == sorted(set(epi.__all__))


def test_every_name_imports_and_is_the_defining_modules_object():
    for name in epi.__all__:
        value = getattr(epi, name)
        module = importlib.import_module(f"kumin.epi.{epi._EXPORTS[name]}")
        assert value is getattr(module, name), name
        # each defining module lists the name in its own __all__
        assert name in module.__all__, (module.__name__, name)


def test_star_import_and_unknown_name():
    namespace: dict = {}
    exec("from kumin.epi import *", namespace)
    assert {"RtEstimator", "epi_curve", "rt_by_infection_date", "SEIRModel"} <= set(namespace)
    try:
        epi.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("unknown names must raise AttributeError")


def test_package_import_is_lazy():
    # the CLI imports kumin.epi at start-up; SciPy loads only when a model is used
    code = "import sys, kumin.epi; print('scipy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
