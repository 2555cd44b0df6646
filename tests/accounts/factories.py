"""Small factories for the accounts tests: the area tree, staff users, a signed-in client."""

from __future__ import annotations

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from jiuzhu.accounts.models import User
from jiuzhu.areas.models import Area

PASSWORD = "Huangshan-orchard-2024"

#: Jilin: Da'an county with one township and one village; Sichuan: a second county, Tongchuan.
AREAS = (
    ("22", "province", "吉林省", None),
    ("2208", "prefecture", "白城市", "22"),
    ("220882", "county", "大安市", "2208"),
    ("220882100", "township", "慧阳街道", "220882"),
    ("220882100201", "village", "新华村", "220882100"),
    ("51", "province", "四川省", None),
    ("5117", "prefecture", "达州市", "51"),
    ("511703", "county", "达川区", "5117"),
)


def make_areas() -> dict[str, Area]:
    areas: dict[str, Area] = {}
    for code, level, name, parent in AREAS:
        areas[code] = Area.objects.create(code=code, level=level, name_zh=name,
                                          parent=areas[parent] if parent else None)
    return areas


def make_user(username: str, role: str, area_code: str, *, password: str = PASSWORD, name: str = "") -> User:
    user = User(username=username, role=role, area_id=area_code, first_name=name or username)
    user.set_password(password)
    user.save()
    return user


def confirmed_device(user: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def staff_client(user: User) -> Client:
    """A client signed in as `user`, with the second factor already confirmed when the role needs one."""
    client = Client()
    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or confirmed_device(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client
