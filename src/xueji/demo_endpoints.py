"""GET /demo/accounts: the demo accounts for the login page; routed only in demo mode."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from xueji.demo import PASSWORD, demo_accounts

router = APIRouter(tags=["demo"])


class DemoAccountItem(BaseModel):
    username: str
    name: str
    role: str
    station: str | None


class DemoAccounts(BaseModel):
    password: str
    accounts: list[DemoAccountItem]


@router.get("/demo/accounts", response_model=DemoAccounts)
def list_demo_accounts() -> DemoAccounts:
    """The demo accounts (all with the same password), so that a visitor can log in."""
    return DemoAccounts(
        password=PASSWORD,
        accounts=[DemoAccountItem(**account._asdict()) for account in demo_accounts()],
    )
