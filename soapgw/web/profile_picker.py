"""The stored-profile picker of the SetChargingProfile and RemoteStartTransaction operation
forms (OCPP 1.6): a profile from the library, or (advanced) the profile as JSON."""
from __future__ import annotations

import json

from sqlalchemy.orm import Session
from wtforms import Field, IntegerField, SelectField, TextAreaField
from wtforms.validators import NumberRange, Optional, ValidationError

from soapgw.core import charging_profiles as profiles
from soapgw.core.enums import ChargingProfilePurposeType
from soapgw.core.errors import Invalid, NotFound

# operation -> the payload key a stored profile fills
PICKED = {"SetChargingProfile": "csChargingProfiles", "RemoteStartTransaction": "chargingProfile"}
ADVANCED = "advanced: the profile as OCPP-J 1.6 JSON, when no stored profile is picked"


def _json_value(form, field: Field) -> None:
    if field.data and field.data.strip():
        try:
            field.parsed = json.loads(field.data)
        except json.JSONDecodeError as exc:
            raise ValidationError(f"Not JSON: {exc.msg} (line {exc.lineno}).") from None


def fields(operation: str, version: str) -> dict[str, Field]:
    """The picker's fields for this form (none where OCPP 1.5 has no charging profiles)."""
    if operation not in PICKED or version != "1.6":
        return {}
    picked = {"stored_profile": SelectField("Stored charging profile", choices=[],
                                            validate_choice=False, default="",
                                            description="from the charging profile library")}
    if operation == "SetChargingProfile":
        picked["profile_transaction_id"] = IntegerField(
            "Transaction (stored TxProfile)", [Optional(), NumberRange(1, 2 ** 31 - 1)],
            description="transactionId the stored TxProfile is for (optional)")
    else:  # the JSON way, as SetChargingProfile has it among its parameters
        picked["p_chargingProfile"] = TextAreaField(
            "chargingProfile", [Optional(), _json_value], description=ADVANCED,
            render_kw={"rows": 5, "spellcheck": "false"})
    return picked


def fill_choices(session: Session, form, operation: str) -> None:
    if "stored_profile" in form:
        purpose = (ChargingProfilePurposeType.tx_profile.value
                   if operation == "RemoteStartTransaction" else None)
        form.stored_profile.choices = [("", "– none (use the JSON below)" if operation ==
                                        "SetChargingProfile" else "– none")] + [
            (str(pk), label) for pk, label in profiles.choices(session, purpose)]


def picker_fields(form) -> list[Field]:
    return [form[name] for name in ("stored_profile", "profile_transaction_id",
                                    "p_chargingProfile") if name in form]


def apply(session: Session, form, operation: str, payload: dict) -> dict:
    """The payload with the picked profile in it; Invalid (form field -> reason) when the
    choice does not hold."""
    if "stored_profile" not in form:
        return payload
    key = PICKED[operation]
    advanced = "p_csChargingProfiles" if operation == "SetChargingProfile" else "p_chargingProfile"
    typed = getattr(form[advanced], "parsed", None)
    chosen = form.stored_profile.data
    if not chosen:
        if typed is not None:
            payload[key] = typed
        elif operation == "SetChargingProfile":
            raise Invalid({"stored_profile": "pick a stored profile, or give the profile as "
                                             "JSON (advanced)"})
        return payload
    if typed is not None:
        raise Invalid({advanced: "pick a stored profile or give JSON, not both"})
    try:
        pk = int(chosen)
        if operation == "SetChargingProfile":
            built = profiles.set_charging_profile_request(
                session, pk, payload.get("connectorId"), form.profile_transaction_id.data)
            payload[key] = built["csChargingProfiles"]
        else:
            payload[key] = profiles.remote_start_profile(session, pk)
    except ValueError:
        raise Invalid({"stored_profile": "not a stored profile"}) from None
    except NotFound:
        raise Invalid({"stored_profile": "that profile is no longer in the library"}) from None
    except Invalid as invalid:
        raise Invalid({{"connector_id": "p_connectorId", "transaction_id":
                        "profile_transaction_id", "profile": "stored_profile"}.get(name, name):
                       reason for name, reason in invalid.problems.items()}) from None
    return payload
