"""The navigation menu: each entry shows only to roles allowed its action."""

from __future__ import annotations

from dataclasses import dataclass

from kumin.core.permissions import allowed


@dataclass(frozen=True)
class NavItem:
    label_key: str
    href: str
    action: str


NAV: list[NavItem] = [
    NavItem("core.nav.dashboard", "/", "dashboard.view"),
]
_ADMIN_NAV = [
    NavItem("core.nav.audit", "/audit", "audit.read"),
    NavItem("core.nav.users", "/admin/users", "users.manage"),
]


def add_nav(*items: NavItem) -> None:
    for item in items:
        if item not in NAV:
            NAV.append(item)


def nav_for(role: str) -> list[NavItem]:
    return [n for n in [*NAV, *_ADMIN_NAV] if allowed(role, n.action)]


#: the menu's groups, by task (#14): an entry's group is its first path segment's
GROUPS = {
    "cases": "health",
    "contracts": "health",
    "releases": "health",
    "epi": "health",
    "calls": "resources",
    "continuity": "resources",
    "reports": "resources",
    "cards": "cards",
    "juki": "juki",
    "oplog": "logs",
    "audit": "audit",
    "admin": "audit",
}
GROUP_ORDER = ("home", "logs", "juki", "cards", "health", "resources", "audit")


def nav_groups(role: str) -> list[tuple[str, list[NavItem]]]:
    """The role's menu grouped by task (cards, Juki-net, logs, audit…), in a fixed order."""
    groups: dict[str, list[NavItem]] = {}
    for item in nav_for(role):
        segment = item.href.strip("/").split("/")[0]
        groups.setdefault(GROUPS.get(segment, "home"), []).append(item)
    return [(g, groups[g]) for g in GROUP_ORDER if g in groups]
