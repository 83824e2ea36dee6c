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
