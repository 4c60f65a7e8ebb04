"""The core's ports: what the gateway offers and what it needs, as `typing.Protocol`s.

One module per port family (api, tenders, upi, processor, repositories, keys), all
importable from here. Adapters satisfy a Protocol structurally (no inheritance); tests
check each adapter against its port.
"""

from gateway_core.clock import Clock
from gateway_core.ports.api import (
    Approval,
    GatewayAPI,
    GatewayBank,
)
from gateway_core.ports.keys import (
    KeyProvider,
)
from gateway_core.ports.processor import (
    ASGIApp,
    BankSettings,
    BanksFactory,
    EmbeddedBanks,
    Processor,
)
from gateway_core.ports.repositories import (
    ApiKeyRepository,
    AuditRepository,
    ClosingRepository,
    DocumentTable,
    FailedAuthRepository,
    IdempotencyRepository,
    OpenPaymentRepository,
    PaymentRepository,
    Record,
    RefundRepository,
    RiskRepository,
    TokenRepository,
    UserRepository,
)
from gateway_core.ports.tenders import (
    Opened,
    Refunded,
    RiskKey,
    Tender,
    TenderHost,
)
from gateway_core.ports.upi import (
    PayerApp,
    UpiPsp,
)

__all__ = [
    "ASGIApp",
    "ApiKeyRepository",
    "Approval",
    "AuditRepository",
    "BankSettings",
    "BanksFactory",
    "Clock",
    "ClosingRepository",
    "DocumentTable",
    "EmbeddedBanks",
    "FailedAuthRepository",
    "GatewayAPI",
    "GatewayBank",
    "IdempotencyRepository",
    "KeyProvider",
    "OpenPaymentRepository",
    "Opened",
    "PayerApp",
    "PaymentRepository",
    "Processor",
    "Record",
    "RefundRepository",
    "Refunded",
    "RiskKey",
    "RiskRepository",
    "Tender",
    "TenderHost",
    "TokenRepository",
    "UpiPsp",
    "UserRepository",
]
