"""Every command of the oplog domain, for the permission walk
(tests/core/test_permissions.py): arguments that parse, and the action needed."""

COMMANDS = {
    "oplog import": (["log.csv"], "oplog.import"),
    "oplog files": ([], "oplog.import"),
    "oplog scan": (["--format", "json"], "oplog.scan"),
    "oplog scans": ([], "oplog.scan"),
    "oplog thresholds list": ([], "oplog.scan"),
    "oplog thresholds set": (["volume_z", "6.5"], "oplog.scan"),
    "oplog thresholds reset": (["volume_z"], "oplog.scan"),
    "oplog alerts list": ([], "oplog.triage"),
    "oplog alerts show": (["1"], "oplog.triage"),
    "oplog alerts review": (["1"], "oplog.triage"),
    "oplog alerts close": (["1", "--outcome", "misuse", "--note", "n"], "oplog.triage"),
    "oplog alerts reopen": (["1", "--note", "n"], "oplog.triage"),
    "oplog alerts note": (["1", "--note", "n"], "oplog.triage"),
    "oplog suppressions add": (["1", "--reason", "overtime"], "oplog.triage"),
    "oplog suppressions list": ([], "oplog.triage"),
    "oplog suppressions lift": (["1", "--reason", "r"], "oplog.triage"),
    "oplog notices issue": (["--from", "2021-04-01", "--to", "2022-03-31"], "oplog.report"),
    "oplog notices list": ([], "oplog.report"),
    "oplog notices print": (["1"], "oplog.report"),
    "oplog watchlist import": (["watchlist.csv"], "juki.manage"),
    "oplog watchlist list": ([], "juki.manage"),
    "oplog watchlist remove": (["R1"], "juki.manage"),
    "report oplog": (["--from", "2021-04-01", "--to", "2022-03-31"], "oplog.report"),
}
