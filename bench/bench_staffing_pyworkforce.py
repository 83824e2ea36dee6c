"""`calls staffing` against pyworkforce's ErlangC where the settings coincide.

pyworkforce (rodrigo-arenas/pyworkforce) sizes one queue with Erlang C, an
occupancy cap and shrinkage: ``ErlangC(...).required_positions(service_level,
max_occupancy)`` gives raw positions, positions after shrinkage, service level,
occupancy and waiting probability. kumin's :func:`min_agents` with
``max_occupancy`` and ``ceil(agents / (1 - shrinkage))`` must give the same.
pyworkforce is not a kumin dependency: install it (and joblib, cloudpickle)
anywhere on PYTHONPATH, e.g.

    pip install --no-deps --target /tmp/pwf pyworkforce==0.5.1 joblib cloudpickle
    PYTHONPATH=/tmp/pwf:src .venv/bin/python bench/bench_staffing_pyworkforce.py

Its package __init__ pulls in pandas for scheduling; only the queueing module
is loaded here. Prints the figures; no assertions.
"""

from __future__ import annotations

import importlib.util
import math
import sys
import types
from pathlib import Path

from kumin.resources.queueing import min_agents


def load_erlang():
    spec = importlib.util.find_spec("pyworkforce")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("pyworkforce is not on PYTHONPATH (see the docstring)")
    root = Path(next(iter(spec.submodule_search_locations)))
    utils = types.ModuleType("pyworkforce.utils")
    utils.ParameterGrid = object  # used by MultiErlangC only
    sys.modules.setdefault("pyworkforce", types.ModuleType("pyworkforce"))
    sys.modules["pyworkforce.utils"] = utils
    path = root / "queuing" / "erlang.py"
    module_spec = importlib.util.spec_from_file_location("pwf_erlang", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module.ErlangC


def main() -> None:
    erlang_c = load_erlang()
    cases = same = raw_same = float_ceil = 0
    worst = 0.0
    for per_half_hour in (20, 50, 100, 210, 400, 800):
        for aht_s in (180, 300, 383, 475):
            for within in (20, 30, 60):
                for target in (0.7, 0.8, 0.9):
                    for cap in (0.8, 0.85, 1.0):
                        for shrink in (0.0, 0.3):
                            peer = erlang_c(
                                transactions=per_half_hour,
                                asa=within / 60,
                                aht=aht_s / 60,
                                interval=30,
                                shrinkage=shrink,
                            ).required_positions(service_level=target, max_occupancy=cap)
                            ours = min_agents(
                                per_half_hour * 2, aht_s, within, target, max_occupancy=cap
                            )
                            scheduled = math.ceil(ours.agents / (1 - shrink) - 1e-9)
                            cases += 1
                            raw_same += peer["raw_positions"] == ours.agents
                            # pyworkforce takes ceil(84 / 0.7) = ceil(120.00000000000001) = 121.
                            float_ceil += (
                                peer["positions"] == math.ceil(ours.agents / (1 - shrink))
                                and peer["positions"] != scheduled
                            )
                            ok = (
                                peer["raw_positions"] == ours.agents
                                and peer["positions"] == scheduled
                            )
                            same += ok
                            if ok:
                                worst = max(
                                    worst,
                                    abs(peer["service_level"] - ours.service_level),
                                    abs(peer["occupancy"] - ours.occupancy),
                                    abs(peer["waiting_probability"] - ours.probability_wait),
                                )
    print(f"raw positions (before shrinkage) agree in {raw_same}/{cases}; scheduled "
          f"positions differ in {cases - same}, of which {float_ceil} only because "
          f"pyworkforce rounds a float quotient such as 84/0.7 up to 121")  # fmt: skip
    print(f"pyworkforce ErlangC: {same}/{cases} settings give the same raw and scheduled "
          f"positions; largest difference in service level, occupancy or waiting "
          f"probability where they agree: {worst:.2e}")  # fmt: skip


if __name__ == "__main__":
    main()
