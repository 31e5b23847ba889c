"""Resident ID numbers (GB 11643): 18 characters, birth date inside, check digit last."""

from __future__ import annotations

from datetime import date

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def check_digit(first17: str) -> str:
    return _CHECK[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def birth_date(id_number: str) -> date:
    return date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))


def id_number_problem(id_number: str) -> str | None:
    """Why an ID number is invalid (the sentence a person reads), or None when it is valid."""
    if len(id_number) != 18 or not id_number[:17].isdigit():
        return "身份证号应为 18 位：17 位数字加 1 位校验码"
    try:
        birth_date(id_number)
    except ValueError:
        return "身份证号第 7–14 位的出生日期不是有效日期"
    if id_number[17].upper() != check_digit(id_number[:17]):
        return "身份证号校验位不正确"
    return None
