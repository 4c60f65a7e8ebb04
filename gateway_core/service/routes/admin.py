"""The back office a terminal reaches: logins, its merchant's terminal keys, repair.

(No `from __future__ import annotations`: FastAPI reads the handlers' annotations.)
"""

from typing import Annotated

from fastapi import APIRouter, Path

from gateway_core.access import User
from gateway_core.service.dependencies import Caller, GatewayDep, Keys
from gateway_core.service.keys import ApiKey, UnknownKey
from gateway_core.service.models import IssuedKey, KeyCreate, KeyRevoke, LoginBody, Repaired

router = APIRouter()


@router.post("/repair", summary="Settle payments left open (lost answers, failed captures)")
async def repair(caller: Caller, gateway: GatewayDep) -> Repaired:
    notes = await gateway.repair()
    mine = [n for n in notes if gateway.get(n.split(":")[0]).merchant_id == caller.merchant_id]
    return Repaired(repaired=mine)


@router.post("/login", summary="Check a user's PIN at the terminal (5 wrong ones lock)")
async def login(body: LoginBody, caller: Caller) -> User:
    users = caller.rt.access.of(caller.merchant_id)
    return users.login(body.user_id, body.pin.get_secret_value())


@router.get("/terminals", summary="The merchant's terminal keys (never a key itself)")
async def list_keys(caller: Caller, keys: Keys) -> list[ApiKey]:
    return [k for k in keys.list() if k.merchant_id == caller.merchant_id]


@router.post("/terminals", summary="Issue a key for a terminal (a merchant admin approves)")
async def issue_key(body: KeyCreate, caller: Caller, keys: Keys, gateway: GatewayDep) -> IssuedKey:
    merchant_id = caller.merchant_id
    actor = caller.admin(body.approval, "terminals.add", f"{merchant_id}/{body.terminal_id}")
    await gateway.bank.board(merchant_id, [body.terminal_id])  # before the key works
    issued, secret = keys.issue(merchant_id, body.terminal_id, actor=actor)
    return IssuedKey(key=issued, secret=secret)


@router.post("/terminals/{key_id}/revoke", summary="Revoke a key now (a merchant admin approves)")
async def revoke_key(
    key_id: Annotated[str, Path(max_length=32)], body: KeyRevoke, caller: Caller, keys: Keys
) -> ApiKey:
    if keys.get(key_id).merchant_id != caller.merchant_id:
        raise UnknownKey(f"no API key {key_id!r}")
    return keys.revoke(key_id, actor=caller.admin(body.approval, "terminals.revoke", key_id))
