"""Made-up residents: Chinese names, birth dates and resident ID numbers that pass every check.

Everything is drawn from one `random.Random`, so a seed gives the same county every time.
"""

from __future__ import annotations

import datetime as dt
import random

from stdnum.cn import ric

#: Common surnames, the most frequent first; drawn with falling weights, as in a real village.
SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴孔汤"
)
_SURNAME_WEIGHTS = [1.0 / (rank + 8) for rank in range(len(SURNAMES))]

MALE_GIVEN = "建国军伟强磊勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林阳博文德志福海东春宝成永忠"
FEMALE_GIVEN = "秀兰芳娟敏静丽艳霞燕玲桂英华红梅琳婷雪慧颖洁萍莉娜晶倩月凤琴玉珍云淑荣彩春丹"


def surname(rng: random.Random) -> str:
    return rng.choices(SURNAMES, weights=_SURNAME_WEIGHTS)[0]


def given_name(rng: random.Random, sex: str) -> str:
    """One or two characters; two for most people, as in the registers."""
    chars = MALE_GIVEN if sex == "male" else FEMALE_GIVEN
    if rng.random() < 0.3:
        return rng.choice(chars)
    return rng.choice(chars) + rng.choice(chars)


def full_name(rng: random.Random, sex: str, family: str | None = None) -> str:
    return (family or surname(rng)) + given_name(rng, sex)


def birth_date(rng: random.Random, today: dt.date, age: int) -> dt.date:
    """A birth date that makes the person `age` completed years old on `today`."""
    day = 28 if (today.month, today.day) == (2, 29) else today.day
    latest = today.replace(year=today.year - age, day=day)
    return latest - dt.timedelta(days=rng.randrange(0, 365))


class IdNumbers:
    """Resident ID numbers (GB 11643) of one county, unique, with the sex digit and the
    check character right: 6 area digits, the birth date, a sequence (odd for men, even
    for women) and the ISO 7064 check character."""

    def __init__(self, rng: random.Random, area_code: str, taken: set[str] | None = None):
        self._rng = rng
        self._area = area_code[:6]
        self._taken = taken if taken is not None else set()

    def new(self, birth: dt.date, sex: str) -> str:
        while True:
            sequence = self._rng.randrange(0, 500) * 2 + (1 if sex == "male" else 0)
            if sequence == 0:
                continue
            body = f"{self._area}{birth:%Y%m%d}{sequence:03d}"
            number = body + ric.calc_check_digit(body + "0")
            if number not in self._taken:
                self._taken.add(number)
                return number


def phone(rng: random.Random) -> str:
    return "1" + rng.choice("3589") + "".join(rng.choice("0123456789") for _ in range(9))


def bank_account(rng: random.Random) -> str:
    """A 19-digit debit card number of the kind the county pays benefits into."""
    return "6217" + "".join(rng.choice("0123456789") for _ in range(15))
