"""Masking of personal data on screens and notices (DOMAIN.md §10).

Pages show masked values until "show" is pressed (and logged); public notices only ever
carry a masked name. The masking style of names is a parameter (`notice.name_mask`).
"""

from __future__ import annotations


def mask_name(name: str, style: str = "middle") -> str:
    """张三明 → 张*明, 张三 → 张*, 欧阳小明 → 欧**明 ("middle"); 张** ("given"); unchanged ("none")."""
    name = name.strip()
    if style == "none" or len(name) < 2:
        return name
    if style == "given" or len(name) == 2:
        return name[0] + "*" * (len(name) - 1)
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_id_number(number: str) -> str:
    """Area digits and the last four stay, so staff can tell two people apart at a glance."""
    if len(number) < 10:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 11 else "*" * len(phone)


def mask_account(account: str) -> str:
    return "*" * max(len(account) - 4, 0) + account[-4:]
