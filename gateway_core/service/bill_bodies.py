"""The request and response bodies of the bills API (`routes.bills`): a bill's total,
its cancel, and a bill as shown. A part's body is a payment's (`models.PaymentCreate`):
the bill fixes the currency (another is refused), a part has no tip and is captured at
once."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, computed_field

from gateway_core.bill_models import Bill
from gateway_core.service.models import ApprovalBody, Minor, Operated


class BillCreate(Operated):
    """A bill's total, to be paid by one or several tenders."""

    amount: Minor = Field(description="the bill's total in minor units")
    currency: str | None = Field(
        None, min_length=3, max_length=3, description="ISO 4217 (default: the server's)"
    )


class BillCancel(Operated):
    """Give up a bill: a manager approves when a part took money (it is given back)."""

    approval: ApprovalBody | None = None


class BillView(Bill):
    """A bill as the API and `--json` show it: its fields and parts, what the succeeded
    parts took (`paid`) and what is still due (`balance`)."""

    @computed_field(return_type=int)  # type: ignore[prop-decorator]  # pydantic's stacking
    @property
    def paid(self) -> int:
        return super().paid

    @computed_field(return_type=int)  # type: ignore[prop-decorator]  # pydantic's stacking
    @property
    def balance(self) -> int:
        return super().balance


class BillList(BaseModel):
    """The bills of a business day, oldest first."""

    object: Literal["list"] = "list"
    data: list[BillView]
