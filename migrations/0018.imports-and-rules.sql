-- Bank files in, and rules (issue 29, ../shared/API.md "Import and export").
--
-- An import is a file read into rows with a decision each (new, duplicate, match, invalid) and
-- kept as a preview until it is committed (its new rows become transactions, its matches link
-- hand-entered ones), discarded, or, once committed, undone. A transaction remembers where it
-- came from: the bank account label, the bank's own id for the row (OFX FITID, CAMT reference,
-- a mapped CSV column) or, without one, the import key (account, date, amount, type and the
-- row's occurrence among equal rows of its file), and the import that created or linked it.
-- Unique per account, so the same bank line can never become two transactions.
--
-- Rules set the category, payee and tags of imported rows (the first matching one, by position)
-- and can be run over existing transactions.
-- depends: 0017.splits-payees-tags

CREATE TABLE imports (
    ledger_id    bigint      NOT NULL REFERENCES ledgers (id) ON DELETE CASCADE,
    id           bigint      GENERATED ALWAYS AS IDENTITY,
    status       text        NOT NULL DEFAULT 'preview'
                             CHECK (status IN ('preview', 'committed', 'discarded', 'undone')),
    format       text        NOT NULL CHECK (format IN ('csv', 'ofx', 'qif', 'camt053', 'mt940')),
    account      text        NOT NULL CHECK (char_length(account) BETWEEN 1 AND 100),
    file_name    text        CHECK (char_length(file_name) <= 255),
    currency     text        NOT NULL,
    created_by   bigint      REFERENCES users (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    committed_at timestamptz,
    undone_at    timestamptz,
    over_budget  jsonb,      -- at commit: the budgets that ended above their amount
    kept         jsonb,      -- at undo: the transactions edited since the commit, kept
    PRIMARY KEY (ledger_id, id)
);
CREATE INDEX imports_created_by_idx ON imports (created_by);

CREATE TABLE import_rows (
    ledger_id      bigint        NOT NULL,
    import_id      bigint        NOT NULL,
    line           integer       NOT NULL CHECK (line >= 1),
    occurred_on    date,
    amount         numeric(18,4) CHECK (amount > 0),     -- unsigned; `type` says which way
    type           text          CHECK (type IN ('INCOME', 'EXPENSE')),
    payee          text,
    description    text          NOT NULL DEFAULT '',
    bank_id        text,
    import_key     text,
    currency       text,
    category_id    bigint,
    category_name  text,          -- a category the file names, made at commit when missing
    tags           text[]        NOT NULL DEFAULT '{}',
    splits         jsonb,         -- [{"category", "amount", "memo"}] from the file (QIF, export)
    decision       text          NOT NULL CHECK (decision IN ('new', 'duplicate', 'match', 'invalid')),
    skip           boolean       NOT NULL DEFAULT false,  -- a commit's override
    transaction_id bigint,        -- the one matched, or the one the commit created
    reason         text,
    PRIMARY KEY (ledger_id, import_id, line),
    FOREIGN KEY (ledger_id, import_id) REFERENCES imports (ledger_id, id) ON DELETE CASCADE,
    FOREIGN KEY (ledger_id, category_id) REFERENCES categories (ledger_id, id)
        ON DELETE SET NULL (category_id),
    FOREIGN KEY (ledger_id, transaction_id) REFERENCES transactions (ledger_id, id)
        ON DELETE SET NULL (transaction_id)
);
CREATE INDEX import_rows_category_idx ON import_rows (ledger_id, category_id)
    WHERE category_id IS NOT NULL;
CREATE INDEX import_rows_transaction_idx ON import_rows (ledger_id, transaction_id)
    WHERE transaction_id IS NOT NULL;

ALTER TABLE transactions
    ADD COLUMN account text,
    ADD COLUMN bank_id text,
    ADD COLUMN import_key text,
    ADD COLUMN import_id bigint;
ALTER TABLE transactions ADD CONSTRAINT transactions_ledger_id_import_id_fkey
    FOREIGN KEY (ledger_id, import_id) REFERENCES imports (ledger_id, id)
    ON DELETE SET NULL (import_id);
-- The same bank line never becomes two transactions of one account.
CREATE UNIQUE INDEX transactions_bank_id_key ON transactions (ledger_id, account, bank_id)
    WHERE bank_id IS NOT NULL;
CREATE UNIQUE INDEX transactions_import_key_key ON transactions (ledger_id, account, import_key)
    WHERE import_key IS NOT NULL;
CREATE INDEX transactions_import_idx ON transactions (ledger_id, import_id)
    WHERE import_id IS NOT NULL;
-- Matching a bank line to a transaction entered by hand: same amount, a few days apart.
CREATE INDEX transactions_hand_entered_idx ON transactions (ledger_id, amount, occurred_on)
    WHERE bank_id IS NULL AND import_key IS NULL;

CREATE TABLE rules (
    ledger_id       bigint      NOT NULL REFERENCES ledgers (id) ON DELETE CASCADE,
    id              bigint      GENERATED ALWAYS AS IDENTITY,
    position        integer     NOT NULL CHECK (position >= 1),
    match           jsonb       NOT NULL,
    set_category_id bigint,
    set_payee       text        CHECK (char_length(set_payee) BETWEEN 1 AND 200),
    set_tags        text[],
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (ledger_id, id),
    FOREIGN KEY (ledger_id, set_category_id) REFERENCES categories (ledger_id, id)
        ON DELETE RESTRICT,
    CHECK (set_category_id IS NOT NULL OR set_payee IS NOT NULL OR set_tags IS NOT NULL)
);
CREATE INDEX rules_position_idx ON rules (ledger_id, position, id);
CREATE INDEX rules_category_idx ON rules (ledger_id, set_category_id)
    WHERE set_category_id IS NOT NULL;
