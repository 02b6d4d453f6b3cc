"""Roles decide what an operator may do; PINs are argon2 hashes."""

import pytest

from app.domain.errors import PermissionDeniedError, ValidationError
from app.domain.roles import Permission, Role, allows, format_roles, parse_roles, require
from app.services.auth import hash_pin, verify_pin


def test_packer_may_pack_but_not_refund() -> None:
    assert allows([Role.PACKER], Permission.PACK)
    assert not allows([Role.PACKER], Permission.REFUND)


def test_refusal_names_the_role_needed() -> None:
    with pytest.raises(PermissionDeniedError) as e:
        require("Pat Packer", [Role.PACKER], Permission.REFUND)
    assert "Pat Packer may not refund" in e.value.message
    assert "supervisor" in e.value.message


def test_refusal_of_packing_names_packer_or_supervisor() -> None:
    with pytest.raises(PermissionDeniedError) as e:
        require("Kim", [Role.PICKER], Permission.PACK)
    assert "packer or supervisor role" in e.value.message


def test_supervisor_may_override_and_admin_may_do_anything() -> None:
    assert allows([Role.SUPERVISOR], Permission.OVERRIDE)
    assert all(allows([Role.ADMIN], p) for p in Permission)
    assert not allows([Role.SUPERVISOR], Permission.CONFIGURE)


def test_roles_round_trip_through_their_stored_form() -> None:
    roles = {Role.PACKER, Role.PICKER}
    assert parse_roles(format_roles(roles)) == roles
    with pytest.raises(ValueError, match="janitor"):
        parse_roles("packer janitor")


def test_pin_is_stored_as_argon2_hash_and_verifies() -> None:
    h = hash_pin("1234")
    assert h.startswith("$argon2id$")
    assert "1234" not in h
    assert verify_pin(h, "1234")
    assert not verify_pin(h, "1235")
    assert not verify_pin("not a hash", "1234")


@pytest.mark.parametrize("pin", ["", "12", "abcd", "12 34", "1" * 13])
def test_a_pin_must_be_4_to_12_digits(pin: str) -> None:
    with pytest.raises(ValidationError, match="4 to 12 digits"):
        hash_pin(pin)
