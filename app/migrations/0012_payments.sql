-- Online payments through the DGFiP's PayFiP web service. An attempt is recorded only with the
-- operation id (`id_op`) PayFiP answered, in one transaction: a failure before that leaves no
-- attempt. The notification PayFiP sends is a hint; the attempt's state follows what
-- `recupererDetailPaiementSecurise` answers, and a paid answer credits the ledger once
-- (`payment.idempotency_key` = 'payfip:' || id_op, and the row lock on the attempt).
create table payfip_attempt (
    id bigint generated always as identity primary key,
    invoice_id bigint not null constraint payfip_attempt_invoice_fk references invoice (id) on delete restrict,
    household_id bigint not null constraint payfip_attempt_household_fk references household (id) on delete restrict,
    regie_id bigint not null constraint payfip_attempt_regie_fk references regie (id) on delete restrict,
    -- What was sent: the régie's client number, the year, the reference and the amount.
    numcli text not null constraint payfip_attempt_numcli_format check (numcli ~ '^[0-9]{6}$'),
    exer integer not null,
    refdet text not null constraint payfip_attempt_refdet_unique unique
        constraint payfip_attempt_refdet_format check (refdet ~ '^[A-Za-z0-9]{6,30}$'),
    attempt integer not null constraint payfip_attempt_number_positive check (attempt > 0),
    amount_cents bigint not null constraint payfip_attempt_amount_range
        check (amount_cents between 100 and 10000000),
    saisie text not null constraint payfip_attempt_saisie_known check (saisie in ('T', 'X', 'W')),
    mel text not null,
    id_op text not null constraint payfip_attempt_id_op_unique unique,
    created_at timestamptz not null,
    state text not null default 'pending' constraint payfip_attempt_state_known
        check (state in ('pending', 'paid', 'refused', 'abandoned', 'expired', 'mismatch', 'failed')),
    -- The reconciliation's bookkeeping: when PayFiP was last asked, when to ask next, how many
    -- times, and the last fault (kind and code) or transport error.
    checked_at timestamptz,
    next_check_at timestamptz not null,
    tries integer not null default 0,
    last_fault text,
    -- The result: `card` or `debit` for a paid or refused answer, the authorisation number,
    -- the transaction's instant, the ledger's payment.
    means text constraint payfip_attempt_means_known check (means in ('card', 'debit')),
    authorisation text,
    transaction_at timestamptz,
    payment_id bigint constraint payfip_attempt_payment_fk references payment (id) on delete restrict,
    decided_at timestamptz,
    constraint payfip_attempt_number_unique unique (invoice_id, attempt),
    constraint payfip_attempt_paid_has_payment check ((state = 'paid') = (payment_id is not null)),
    constraint payfip_attempt_decided check ((state = 'pending') = (decided_at is null))
);
-- One attempt at a time may still succeed on an invoice: a second is refused while it is pending.
create unique index payfip_attempt_one_pending on payfip_attempt (invoice_id) where state = 'pending';
create index payfip_attempt_due on payfip_attempt (next_check_at) where state = 'pending';
create index payfip_attempt_household on payfip_attempt (household_id, id desc);
create index payfip_attempt_created on payfip_attempt (created_at);
create trigger payfip_attempt_no_delete before delete on payfip_attempt
    for each row execute function refuse_change();

-- A paid answer that is not the attempt's (another amount, numcli, refdet, year, a test
-- payment in production): credited nothing, kept for finance with what PayFiP answered.
create table payfip_mismatch (
    id bigint generated always as identity primary key,
    attempt_id bigint not null constraint payfip_mismatch_attempt_fk references payfip_attempt (id) on delete restrict,
    -- What differed, one object per field, and the answer as read.
    found jsonb not null,
    answer jsonb not null,
    recorded_at timestamptz not null default clock_timestamp()
);
create index payfip_mismatch_attempt on payfip_mismatch (attempt_id);
create trigger payfip_mismatch_append_only before update or delete on payfip_mismatch
    for each row execute function refuse_change();
