"""Settings: defaults < config file (TOML) < `PAYGATE_*` environment < command line.

The config file is `--config FILE`, else `$PAYGATE_CONFIG`, else `config.toml` in the
platform's config dir (e.g. ~/.config/paygate/config.toml); a missing file is fine,
a broken one is an error. Data lives in the platform's data dir unless `--data-dir`.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from platformdirs import user_config_path, user_data_path
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from gateway_core.errors import InputError
from gateway_core.fees import FeeSchedule
from gateway_core.money import WIRE_MAX_MINOR, currency_exponent, normalize_currency
from gateway_core.risk_models import ModelSettings, RiskLimits

_config_file: ContextVar[Path | None] = ContextVar("paygate_config_file", default=None)


# The most one payment may be, per currency, in major units (rupees, dollars, yen,
# dinars): about ₹1,00,000 in each, rounded. A cap in minor units would be ten times too
# high for KWD (3 decimals) and a hundred times for JPY (none).
DEFAULT_MAX_AMOUNT = {
    "INR": 100_000,
    "USD": 1_200,
    "EUR": 1_100,
    "GBP": 1_000,
    "JPY": 200_000,
    "KWD": 400,
    "AED": 4_500,
    "SGD": 1_600,
}


class UpiSettings(BaseModel):
    """The merchant's UPI: its VPA and category, which flows it takes, and the timers
    (NPCI's: a QR or intent link lives 5 minutes, a collect request 8; the first status
    check 90 s after the payment, at most 3 checks, then it fails and any debit is
    reversed)."""

    model_config = ConfigDict(extra="forbid")

    vpa: str = "demostore@pgbank"  # the payee VPA links carry (`pa`)
    mcc: str = Field(default="5411", pattern=r"^[0-9]{4}$")
    collect_enabled: bool = False  # NPCI is retiring P2P collect: off unless enabled
    link_expiry_s: int = Field(default=300, ge=30, le=86_400)
    collect_expiry_s: int = Field(default=480, ge=30, le=86_400)
    first_check_s: int = Field(default=90, ge=1, le=3_600)
    max_checks: int = Field(default=3, ge=1, le=10)


class NetbankingSettings(BaseModel):
    """The merchant's net banking: which banks the checkout offers, how long a customer
    has at the bank (10 minutes), and the status checks (the first 60 s after the
    payment, the last at expiry + 60 s; a debit found after expiry is refunded)."""

    model_config = ConfigDict(extra="forbid")

    banks: list[str] = Field(default_factory=lambda: ["DEMOA", "DEMOB", "DEMOC", "DOWN"])
    expiry_s: int = Field(default=600, ge=30, le=86_400)
    first_check_s: int = Field(default=60, ge=1, le=3_600)
    max_checks: int = Field(default=3, ge=1, le=10)


CheckoutMethod = Literal["netbanking", "upi", "card"]
CHECKOUT_METHODS: tuple[CheckoutMethod, ...] = ("netbanking", "upi", "card")


class CheckoutSettings(BaseModel):
    """The hosted checkout page (`/checkout/{payment id}`) and payment links: the
    gateway's address as customers' browsers reach it, the methods offered, and how
    long a link lives."""

    model_config = ConfigDict(extra="forbid")

    # None: `paygate serve`'s own address (http://HOST:PORT); set it behind a proxy
    public_url: str | None = None
    methods: list[CheckoutMethod] = Field(default_factory=lambda: list(CHECKOUT_METHODS))
    link_expiry_s: int = Field(default=900, ge=60, le=7 * 86_400)


class CashSettings(BaseModel):
    """Cash at the counter: the rounding of the amount due per currency (minor units:
    INR 100 rounds to the nearest ₹1; none by default), and the drawer short above which
    closing a shift needs a manager (minor units per currency)."""

    model_config = ConfigDict(extra="forbid")

    rounding: dict[str, int] = Field(default_factory=dict)
    short_approval_over: dict[str, int] = Field(default_factory=lambda: {"INR": 100_00})


def is_postgres_url(url: str) -> bool:
    """Whether `url` names a PostgreSQL database (postgresql:// or postgres://)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    named = bool(parts.netloc or "host=" in parts.query) and len(parts.path) > 1
    return parts.scheme in ("postgresql", "postgres") and named and url.isprintable()


class ProcessorSettings(BaseModel):
    """One real processor's connection (`[processors.stripe]` in the config file, or
    `PAYGATE_PROCESSORS__STRIPE__API_KEY` and its siblings). Keys come from here or the
    environment, never from the repository. `base_url` None: the local fake of the
    provider (bank_sim) served from this process."""

    model_config = ConfigDict(extra="forbid")

    api_key: SecretStr | None = None  # Stripe sk_..., Razorpay key_id, PayPal client id
    api_secret: SecretStr | None = None  # Razorpay key_secret, PayPal client secret
    webhook_secret: SecretStr | None = None  # Stripe whsec_..., Razorpay, PayPal webhook id
    base_url: str | None = None  # e.g. https://api.stripe.com; None: the local fake
    timeout_s: float = Field(default=8.0, gt=0)


class RouteRule(BaseModel):
    """`[[routing]]`: payments that match go to `processors`, in order (failover to the
    next only when it cannot charge twice). Unset fields match anything; the first
    matching rule wins; with no rule, the built-in acquirer ("simulated")."""

    model_config = ConfigDict(extra="forbid")

    merchant: str | None = None  # a merchant id (several share one gateway); unset: any
    method: str | None = None  # "card", "upi", "netbanking"
    currency: str | None = None
    min_amount: int | None = Field(default=None, ge=0)  # minor units, inclusive
    max_amount: int | None = Field(default=None, ge=0)  # minor units, inclusive
    brand: str | None = None  # "visa", "mastercard", "rupay", "amex"
    processors: list[str] = Field(min_length=1)  # "stripe", "razorpay", "paypal", "simulated"


class SettingsError(InputError):
    """A setting in the config file or environment is invalid."""


def default_config_file() -> Path:
    """Where the config file is looked for when none is named."""
    return user_config_path("paygate") / "config.toml"


class Settings(BaseSettings):
    """Everything configurable about one paygate installation."""

    model_config = SettingsConfigDict(
        env_prefix="PAYGATE_", env_nested_delimiter="__", extra="forbid"
    )

    data_dir: Path = Field(default_factory=lambda: user_data_path("paygate"))
    key_file: Path | None = None
    currency: str = "INR"
    max_amount: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_MAX_AMOUNT))
    timezone: str | None = None
    merchant_name: str = "Paygate Demo Store"
    merchant_id: str = Field(default="PAYGATEDEMO0001", min_length=1, max_length=15)
    terminal_id: str = Field(default="TERM0001", min_length=1, max_length=8)
    bank_url: str | None = None  # None: the simulated banks run in this process
    bank_timeout_s: float = Field(default=8.0, gt=0)
    bank_latency_ms: float = Field(default=0.0, ge=0)  # simulated delay at each hop
    gateway_url: str | None = None  # a `paygate serve` to use instead of this data dir
    database_url: str | None = None  # postgresql://...: the records there (None: data dir)
    api_key: SecretStr | None = None  # this terminal's key for `gateway_url` (pk_...)
    # Proxies in front of `paygate serve` whose X-Forwarded-For is believed (addresses or
    # networks); from anyone else the header is ignored and the peer address counts.
    trusted_proxies: list[str] = Field(default_factory=list)
    risk: RiskLimits = Field(default_factory=RiskLimits)
    fraud: ModelSettings = Field(default_factory=ModelSettings)  # the fraud model's thresholds
    fees: FeeSchedule = Field(default_factory=FeeSchedule)  # MDR, GST, payout calendar
    upi: UpiSettings = Field(default_factory=UpiSettings)  # payee VPA, flows, timers
    netbanking: NetbankingSettings = Field(default_factory=NetbankingSettings)
    checkout: CheckoutSettings = Field(default_factory=CheckoutSettings)
    cash: CashSettings = Field(default_factory=CashSettings)  # rounding, drawer shorts
    log_format: Literal["text", "ecs"] = "text"  # ecs: JSON lines (gateway_core.logs)
    processors: dict[str, ProcessorSettings] = Field(default_factory=dict)  # by name
    routing: list[RouteRule] = Field(default_factory=list)  # first match wins

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        return normalize_currency(value)

    @field_validator("max_amount")
    @classmethod
    def _caps(cls, value: dict[str, int]) -> dict[str, int]:
        """Caps given for some currencies; the others keep their defaults."""
        caps = dict(DEFAULT_MAX_AMOUNT)
        for code, major in value.items():
            code = normalize_currency(code)
            if not 0 < major * 10 ** currency_exponent(code) <= WIRE_MAX_MINOR:
                raise ValueError(f"{code}: a cap is more than 0 and fits 12 digits of minor units")
            caps[code] = major
        return caps

    def max_minor(self, currency: str) -> int:
        """The most one payment in `currency` may be, in its minor units."""
        code = normalize_currency(currency)
        scale: int = 10 ** currency_exponent(code)  # typeshed: int ** int may be a float
        return self.max_amount[code] * scale

    @field_validator("bank_url")
    @classmethod
    def _bank_url(cls, value: str | None) -> str | None:
        """http(s)://HOST[:PORT][/PATH], checked before any payment is recorded. The
        value is not echoed: a URL may carry a password."""
        if value is None:
            return None
        try:
            parts = urlsplit(value)
            ok = (
                parts.scheme in ("http", "https")
                and bool(parts.hostname)
                and (parts.port is None or parts.port > 0)
                and not (parts.query or parts.fragment or "@" in parts.netloc)
            )
        except ValueError:  # a bad port or IPv6 address
            ok = False
        if not ok or not value.isascii() or not value.isprintable() or " " in value:
            raise ValueError("must be http://HOST[:PORT] or https://HOST[:PORT][/PATH]")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str | None) -> str | None:
        """postgresql://[USER[:PASSWORD]@]HOST[:PORT]/DBNAME[?OPTIONS] (or a socket dir in
        `?host=`); not echoed: it may carry a password."""
        if value is None or is_postgres_url(value):
            return value
        raise ValueError("must be postgresql://USER@HOST[:PORT]/DBNAME")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown timezone {value!r}") from None
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_addresses(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"{entry[:45]!r} is not an IP address or network") from None
        return value

    @property
    def resolved_key_file(self) -> Path:
        """The key file: `key_file`, else `<data_dir>/keys/keyring.json`."""
        return self.key_file or self.data_dir / "keys" / "keyring.json"

    @property
    def tz(self) -> ZoneInfo | None:
        """The merchant's timezone for business days (None: the machine's)."""
        return ZoneInfo(self.timezone) if self.timezone else None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        path = _config_file.get()
        toml = (TomlConfigSettingsSource(settings_cls, toml_file=path),) if path else ()
        return (init_settings, env_settings, *toml)


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build Settings from all sources; `overrides` (command-line values) win."""
    if "PAYGATE_MAX_AMOUNT_MINOR" in os.environ:  # else a lower cap would lapse unseen
        raise SettingsError(
            "PAYGATE_MAX_AMOUNT_MINOR is gone: set the cap per currency in major units, "
            "e.g. PAYGATE_MAX_AMOUNT__INR=100000"
        )
    path = config_file or (Path(p) if (p := os.environ.get("PAYGATE_CONFIG")) else None)
    if path is not None and not path.is_file():
        raise SettingsError(f"config file {path} does not exist")
    path = path or default_config_file()
    if path.is_file():
        try:
            tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise SettingsError(f"config file {path} is not valid TOML: {exc}") from None
    token = _config_file.set(path if path.is_file() else None)
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(part) for part in err["loc"]) or "settings"
        why = err["msg"].removeprefix("Value error, ")  # pydantic's wording for a ValueError
        raise SettingsError(f"setting {where}: {why}") from None
    finally:
        _config_file.reset(token)
