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
    """Why an ID number is invalid, or None when it is valid."""
    if len(id_number) != 18 or not id_number[:17].isdigit():
        return "an ID number has 18 characters: 17 digits and a check digit"
    try:
        birth_date(id_number)
    except ValueError:
        return "the birth date inside the ID number (digits 7-14) is not a date"
    if id_number[17].upper() != check_digit(id_number[:17]):
        return "the check digit of the ID number is wrong"
    return None
