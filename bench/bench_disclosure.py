"""Benchmark: disclosure control of releases (kumin release preview / create).

    .venv/bin/python bench/bench_disclosure.py [--seed 1]

On the synthetic ward's records (no database: the pure core of
``kumin.cases.disclosure``), for two contracts:

1. the issue's held-out case: 3,000 records released with age band, sex,
   nationality, town, onset date, care setting and vaccine doses;
2. the demo contract's items on all 31,077 records (four notification dates).

Prints the risk before and after (k, records at risk, prosecutor and average
risk), the generalisation chosen, the records withheld (limit 5 %), the lattice
nodes evaluated of all, and the wall and CPU time of the search. The peer is a
brute-force walk over the whole lattice for case 1 (same result, all nodes).
"""

from __future__ import annotations

import argparse
import itertools
import time

from kumin.cases.disclosure import anonymise, apply_scheme, load_hierarchies, risk_measures
from kumin.synth.cases import synth_cases

CASE1 = ["age_band", "sex", "nationality", "town", "onset_date", "care_setting", "vaccine_doses"]
CASE2 = ["age_band", "sex", "town", "onset_date", "first_visit_date", "specimen_date",
         "result_date", "vaccine_doses", "care_setting"]  # fmt: skip


def _run(label: str, n: int, qis: list[str], seed: int, brute: bool) -> None:
    records = synth_cases(seed=seed, n=n)
    cols = {q: [getattr(r, q) for r in records] for q in qis}
    ages = [r.age_years for r in records]
    h = load_hierarchies("setagaya")
    before = risk_measures(cols, qis, [], 5)
    wall, cpu = time.perf_counter(), time.process_time()
    a = anonymise(cols, qis, h, k=5, max_suppression=0.05, ages=ages)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    kept = {q: [v for v, s in zip(a.columns[q], a.suppressed, strict=True) if not s] for q in qis}
    after = risk_measures(kept, qis, [], 5)
    print(f"== {label}: {n:,} records, QIs {', '.join(qis)}")
    for name, r in (("before", before), ("after", after)):
        print(f"  {name:6} records={r['records']:,} classes={r['classes']:,} k={r['k']} "
              f"at_risk={r['records_at_risk']:,} ({r['records_at_risk_share']:.1%}) "
              f"prosecutor={r['prosecutor_risk']:.3f} average={r['average_risk']:.4f}")  # fmt: skip
    print(f"  scheme {a.scheme}")
    print(f"  withheld {int(a.suppressed.sum()):,}  information loss {a.information_loss:.4f}  "
          f"nodes {a.nodes:,}/{a.lattice:,}  search {wall:.2f} s wall, {cpu:.2f} s CPU")  # fmt: skip
    if brute:
        t0 = time.perf_counter()
        dims = {h.dimension_of(q).name: h.dimension_of(q) for q in qis}
        best = None
        for node in itertools.product(*(range(d.height) for d in dims.values())):
            b = apply_scheme(cols, qis, h, dict(zip(dims, node, strict=True)), 5, ages)
            if b.suppressed.sum() <= int(0.05 * n) and (best is None or b.information_loss < best):
                best = b.information_loss
        print(
            f"  brute force over the lattice: loss {best:.4f} in {time.perf_counter() - t0:.1f} s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-brute", action="store_true")
    args = parser.parse_args()
    _run("issue case", 3_000, CASE1, args.seed, brute=not args.no_brute)
    _run("demo contract", 31_077, CASE2, args.seed, brute=False)


if __name__ == "__main__":
    main()
