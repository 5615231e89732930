"""Users and tokens (admin only)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, status

from sdi.access import users as user_service
from sdi.api.deps import Admin, Db, State, audit_action, not_found
from sdi.api.local_cli import LOCAL_ADMIN
from sdi.api.schemas import Message, UserCreate, UserCreated, UserPublic

router = APIRouter(prefix="/api/users", tags=["users"])


@router.get("", response_model=list[UserPublic])
def list_users(user: Admin, db: Db) -> list[dict[str, Any]]:
    """Every user with role, territory and assigned serials (never tokens)."""
    return [u.to_dict() for u in user_service.list_users(db)]


@router.post("", response_model=UserCreated, status_code=status.HTTP_201_CREATED)
def add_user(body: UserCreate, user: Admin, db: Db, state: State) -> dict[str, Any]:
    """Create a user; the token is returned once and stored only as a hash."""
    created, token = user_service.add_user(db, body.name, body.role, body.territory, body.serials, created_by=user.name)
    state.tokens.invalidate()
    audit_action(state, "user_add", {"name": created.name, "role": created.role, "territory": created.territory,
                                     "serials": len(created.serials)}, user)
    return created.to_dict() | {"token": token}


@router.delete("/{name}", response_model=Message)
def remove_user(name: Annotated[str, Path(max_length=80)], user: Admin, db: Db, state: State) -> dict[str, str]:
    """Remove a user; their token stops working at once."""
    if name == user.name:
        raise HTTPException(status.HTTP_409_CONFLICT, "you cannot remove your own account; another admin can")
    target = user_service.get_user(db, name)
    if target is None:
        raise not_found("user")
    people = db.scalar("SELECT count(*) FROM users WHERE role = 'admin' AND name <> ?", [LOCAL_ADMIN])
    if target.role == "admin" and target.name != LOCAL_ADMIN and people <= 1:
        raise HTTPException(status.HTTP_409_CONFLICT, f"{name} is the last admin; add another admin first")
    user_service.remove_user(db, name)
    state.tokens.invalidate()
    audit_action(state, "user_remove", {"name": name}, user)
    return {"detail": f"user {name} removed"}
