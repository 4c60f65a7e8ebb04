"""The core's ports: what the gateway offers and what it needs, as `typing.Protocol`s.

One module per port family (api, tenders, upi, netbanking, processor, repositories, keys), all
importable from here. Adapters satisfy a Protocol structurally (no inheritance); tests
check each adapter against its port.
"""

from gateway_core.clock import Clock
from gateway_core.ports.api import (
    Approval,
    BillsAPI,
    GatewayAPI,
    GatewayBank,
    ShiftsAPI,
)
from gateway_core.ports.keys import (
    KeyProvider,
)
from gateway_core.ports.netbanking import (
    NetbankingBanks,
)
from gateway_core.ports.processor import (
    Acquiring,
    ASGIApp,
    BankSettings,
    BanksFactory,
    EmbeddedBanks,
    Processor,
)
from gateway_core.ports.repositories import (
    ApiKeyRepository,
    AuditRepository,
    BillRepository,
    ClosingRepository,
    DocumentTable,
    FailedAuthRepository,
    IdempotencyRepository,
    OpenPaymentRepository,
    PaymentRepository,
    Record,
    Records,
    RefundRepository,
    RiskRepository,
    ShiftRepository,
    TallyKey,
    TallyRepository,
    TallySums,
    TokenRepository,
    UserRepository,
    WebhookRepository,
)
from gateway_core.ports.tenders import (
    Opened,
    Polled,
    Refunded,
    Returning,
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
    "Acquiring",
    "ApiKeyRepository",
    "Approval",
    "AuditRepository",
    "BankSettings",
    "BanksFactory",
    "BillRepository",
    "BillsAPI",
    "Clock",
    "ClosingRepository",
    "DocumentTable",
    "EmbeddedBanks",
    "FailedAuthRepository",
    "GatewayAPI",
    "GatewayBank",
    "IdempotencyRepository",
    "KeyProvider",
    "NetbankingBanks",
    "OpenPaymentRepository",
    "Opened",
    "PayerApp",
    "PaymentRepository",
    "Polled",
    "Processor",
    "Record",
    "Records",
    "RefundRepository",
    "Refunded",
    "Returning",
    "RiskKey",
    "RiskRepository",
    "ShiftRepository",
    "ShiftsAPI",
    "TallyKey",
    "TallyRepository",
    "TallySums",
    "Tender",
    "TenderHost",
    "TokenRepository",
    "UpiPsp",
    "UserRepository",
    "WebhookRepository",
]
