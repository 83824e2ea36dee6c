"""Public count tables that cannot be undone: small-cell (primary) suppression completed
by complementary (secondary) suppression.

Tables published together here are one-way tables of the same records (by month,
by town, …), each adding up to the same published total. A suppressed cell can then
be bounded from its table alone: an outsider knows the sum of the table's suppressed
cells (the total less the published ones) and that each listed cell holds at least
one record. With ``m`` suppressed cells summing to ``σ`` each lies in
``[1, σ − m + 1]``, a range of width ``σ − m``. Primary suppression alone fails
when a table has one small cell (its value is the total less the rest) or a few
small ones with a small sum. So, as τ-ARGUS's minimal-count heuristics do, the
smallest published cells are suppressed too until the width exceeds the
threshold; a table that cannot get there even with every cell suppressed is not
published at all. Every suppressed cell shows the same marker (``"x"``, the mark of
Japan's official statistics), so a reader cannot tell a small count from its cover.

>>> protect_table([40, 3, 25, 9], threshold=5)
[40, 'x', 25, 'x']
>>> protect_table([1, 1, 1, 1, 1, 1], threshold=5) is None
True
"""

from __future__ import annotations

from collections.abc import Sequence

from kumin.errors import ParameterError

MARKER = "x"


def protection_width(cells: Sequence[int], suppressed: Sequence[int]) -> int:
    """Width of the range an outsider can bound each suppressed cell to (0: recovered).

    >>> protection_width([40, 3, 25], [1])
    0
    """
    if not suppressed:
        return 0
    total = sum(cells[i] for i in suppressed)
    return total - len(suppressed) if len(suppressed) > 1 else 0


def protect_table(cells: Sequence[int], threshold: int = 5) -> list[int | str] | None:
    """One table's counts as published, or ``None`` when it cannot be protected.

    Parameters
    ----------
    cells : sequence of int
        The counts of one table, all of whose cells are published with its total.
    threshold : int
        Counts from 1 to ``threshold - 1`` are suppressed, and every suppressed cell
        must keep a range wider than ``threshold``.
    """
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 1:
        raise ParameterError("cases.minimise.bad_threshold", got=threshold)
    counts = [int(c) for c in cells]
    hidden = [i for i, c in enumerate(counts) if 0 < c < threshold]
    if not hidden:
        return list(counts)
    # complementary cells: the smallest published ones first (least information lost)
    order = sorted((c, i) for i, c in enumerate(counts) if c >= threshold)
    while protection_width(counts, hidden) <= threshold:
        if not order:
            return None
        hidden.append(order.pop(0)[1])
    chosen = set(hidden)
    return [MARKER if i in chosen else c for i, c in enumerate(counts)]
