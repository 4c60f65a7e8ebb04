-- the day's running totals (gateway_core.settlement.running): one row per TallyKey,
-- added to in the unit of the write they follow; the payments' page order
CREATE TABLE tallies (
    merchant_id text NOT NULL,
    day date NOT NULL,
    shop text NOT NULL,
    kind text NOT NULL,
    method text NOT NULL,
    brand text NOT NULL,
    funding text NOT NULL,
    currency text NOT NULL,
    status text NOT NULL,
    code text NOT NULL,
    terminal text NOT NULL,
    at text NOT NULL,
    n bigint NOT NULL,
    amount bigint NOT NULL,
    captured bigint NOT NULL,
    tips bigint NOT NULL,
    fees bigint NOT NULL,
    gst bigint NOT NULL,
    PRIMARY KEY (
        merchant_id, day, shop, kind, method, brand, funding, currency, status, code,
        terminal, at
    )
);
CREATE INDEX payments_newest ON payments (merchant_id, day, (record ->> 'created_at') DESC, id DESC);
