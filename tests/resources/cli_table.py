"""Every command of the resources domain, for the permission walk
(tests/core/test_permissions.py): arguments that parse, and the action needed."""

COMMANDS = {
    "calls import": (["calls.csv"], "calls.manage"),
    "calls cases-import": (["cases.csv", "--centre", "tokyo_call_centre"], "calls.manage"),
    "calls summary": ([], "calls.read"),
    "calls staffing": (
        [
            "--arrivals-per-hour",
            "100",
            "--handle-seconds",
            "300",
            "--answer-within",
            "20",
            "--service-level",
            "0.8",
        ],
        None,  # a pure calculator: no database, no sign-in (like epi rt --counts)
    ),
    "calls plan": ([], "calls.read"),
    "calls backtest": ([], "calls.read"),
    "calls history": ([], "calls.read"),
    "continuity import": (["counts.csv"], "continuity.manage"),
    "continuity assess": (["--baseline-end", "2020-02"], "continuity.read"),
    "report evaluation": ([], "evaluation.report"),
}
