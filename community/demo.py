"""Made-up people and places for the demo and the benchmark: never real persons.

ID numbers use region codes starting with 99 (no province has them) and phones the
1990000xxxx range, so a demo record cannot be mistaken for a real resident's.
"""

from __future__ import annotations

import datetime as dt
import random

from community.privacy import id_check_digit

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚"
GIVEN_MALE = "伟强磊军洋勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林建国志文博"
GIVEN_FEMALE = "芳娜敏静丽艳娟霞秀英玲桂兰萍红梅琳雪婷颖慧莉倩琴晶燕妍欣怡佳悦晨"


def person_name(rng: random.Random, gender: str) -> str:
    pool = GIVEN_MALE if gender == "male" else GIVEN_FEMALE
    given = rng.choice(pool) + (rng.choice(pool) if rng.random() < 0.7 else "")
    return rng.choice(SURNAMES) + given


def fake_id_number(rng: random.Random, birth: dt.date, gender: str, serial: int) -> str:
    """A checksum-valid ID number in a region code that does not exist (99xxxx)."""
    region = f"99{rng.randint(0, 9999):04d}"
    seq = serial % 100
    sex_digit = rng.choice("13579" if gender == "male" else "02468")
    first17 = f"{region}{birth:%Y%m%d}{seq:02d}{sex_digit}"
    return first17 + id_check_digit(first17)


def fake_phone(serial: int) -> str:
    return f"1990{serial % 10_000_000:07d}"


def birth_date(rng: random.Random, min_age: int, max_age: int, today: dt.date) -> dt.date:
    days = rng.randint(min_age * 365, max_age * 365)
    return today - dt.timedelta(days=days)
