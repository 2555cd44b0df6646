"""The demo's staff: a user per role, with passwords and TOTP secrets derived from the seed.

Derived, not random, so the same seed prints the same sign-in details on every machine
and a second `jiuzhu demo` can print them again. That is only acceptable because these
are demo accounts in a demo database: never load the demo into a database with real data.
"""

from __future__ import annotations

import hashlib
import time
from base64 import b32encode
from dataclasses import dataclass

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from jiuzhu.accounts import audit
from jiuzhu.accounts.models import User
from jiuzhu.accounts.roles import TWO_FACTOR_ROLES, Role
from jiuzhu.areas.models import Area, Level

DEVICE_NAME = "demo authenticator"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    name: str
    role: str
    area_code: str
    password: str
    #: The TOTP key in hex (as django-otp stores it); empty for roles without a second factor.
    totp_key: str = ""

    @property
    def totp_secret(self) -> str:
        """The base32 secret an authenticator app asks for."""
        return b32encode(bytes.fromhex(self.totp_key)).decode() if self.totp_key else ""


def _digest(seed: int, purpose: str, username: str) -> bytes:
    return hashlib.sha256(f"jiuzhu-demo:{purpose}:{seed}:{username}".encode()).digest()


def demo_password(seed: int, username: str) -> str:
    """Three groups of four letters and digits, e.g. Daan-k7qp-m2xv-9rtd: long, not common,
    not numeric and unlike the username, so Django's validators accept it."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    for attempt in range(100):
        raw = _digest(seed, f"password{attempt}", username)
        chars = "".join(alphabet[b % len(alphabet)] for b in raw[:12])
        password = f"Daan-{chars[:4]}-{chars[4:8]}-{chars[8:]}"
        try:
            validate_password(password, User(username=username))
        except ValidationError:
            continue
        return password
    raise RuntimeError(f"no valid demo password for {username}")  # not reached with 100 tries


def _slug(area: Area) -> str:
    """'Yongsheng Village' → 'yongsheng': the first word of the English name."""
    return (area.name_en.split() or [area.code])[0].lower().replace("'", "")


def demo_accounts(county_code: str, seed: int) -> list[DemoAccount]:
    """The accounts for a county already in the area table: a worker per village, two
    officers and an approver per township, and a supervisor, an admin and an auditor at
    the county. Names and secrets depend only on the areas and the seed."""
    staff: list[tuple[str, str, str, str]] = []  # username, name, role, area
    given = iter(("秀兰", "建华", "玉珍", "国庆", "春梅", "志刚", "丽娟", "海涛", "淑芬", "永强", "桂英", "德明",
                  "红霞", "长林", "晓燕", "文博", "立新", "雅琴"))
    family = iter("刘张王李赵孙周吴郑陈杨黄马朱胡高林罗")

    def person() -> str:
        return next(family, "王") + next(given, "明")

    townships = Area.objects.filter(code__startswith=county_code, level=Level.TOWNSHIP).order_by("code")
    for township in townships:
        slug = _slug(township)
        for village in Area.objects.filter(parent=township, level=Level.VILLAGE).order_by("code"):
            staff.append((f"village.{_slug(village)}", person(), Role.VILLAGE_WORKER, village.code))
        staff.append((f"officer1.{slug}", person(), Role.TOWNSHIP_OFFICER, township.code))
        staff.append((f"officer2.{slug}", person(), Role.TOWNSHIP_OFFICER, township.code))
        staff.append((f"approver.{slug}", person(), Role.TOWNSHIP_APPROVER, township.code))
    county = _slug(Area.objects.get(code=county_code))
    staff.append((f"supervisor.{county}", person(), Role.COUNTY_SUPERVISOR, county_code))
    staff.append((f"admin.{county}", person(), Role.COUNTY_ADMIN, county_code))
    staff.append((f"auditor.{county}", person(), Role.AUDITOR, county_code))
    return [DemoAccount(username=username, name=name, role=role, area_code=area, password=demo_password(seed, username),
                        totp_key=_digest(seed, "totp", username)[:20].hex() if role in TWO_FACTOR_ROLES else "")
            for username, name, role, area in staff]


def create_accounts(accounts: list[DemoAccount]) -> dict[str, User]:
    """Create the users (audited like the users admin does) and a confirmed authenticator
    for each role that must use one, so approvers can sign in at once."""
    from jiuzhu.accounts.services import USER_AUDIT_FIELDS

    users: dict[str, User] = {}
    for account in accounts:
        user = User(username=account.username, first_name=account.name, role=account.role,
                    area_id=account.area_code)
        user.set_password(account.password)
        user.save()
        audit.record(actor=None, action="user.create", obj=user, area=account.area_code,
                     after=audit.snapshot(user, USER_AUDIT_FIELDS), reason="demo county")
        if account.totp_key:
            device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, key=account.totp_key, confirmed=True)
            audit.record(actor=None, action="user.two_factor_confirmed", obj=user, area=account.area_code,
                         after={"device_id": device.pk}, reason="demo county")
        users[account.username] = user
    return users


def totp_code(username: str, at: float | None = None) -> str:
    """The code the user's confirmed authenticator shows now (for the README and tests).
    Raises TOTPDevice.DoesNotExist when the user has none."""
    device = TOTPDevice.objects.filter(user__username=username, confirmed=True).order_by("pk").first()
    if device is None:
        raise TOTPDevice.DoesNotExist(f"{username} has no confirmed authenticator")
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() if at is None else at
    return f"{totp.token():0{device.digits}d}"
