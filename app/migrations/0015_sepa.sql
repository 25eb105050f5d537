-- SEPA Core direct debit: the households' mandates, the pain.008 exports of invoicing runs with
-- one debit per invoice collected, the rejections finance enters, and the ledger's reversal of
-- a rejected debit (append-only, once per payment).

-- A household's mandate. The RUM is Cantine's, unique for the creditor. A mandate is revoked,
-- never deleted: its debits keep pointing at it. One active mandate per household and activity.
create sequence sepa_mandate_number;
create table sepa_mandate (
    id bigint primary key default nextval('sepa_mandate_number'),
    household_id bigint not null constraint sepa_mandate_household_fk references household (id) on delete restrict,
    activity text not null default 'canteen' constraint sepa_mandate_activity_known check (activity in ('canteen')),
    rum text not null constraint sepa_mandate_rum_unique unique
        constraint sepa_mandate_rum_format check (rum ~ '^[A-Z0-9-]{1,35}$'),
    holder text not null constraint sepa_mandate_holder_length check (length(trim(holder)) between 1 and 70),
    iban text not null constraint sepa_mandate_iban_format check (iban ~ '^[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}$'),
    bic text not null constraint sepa_mandate_bic_format check (bic ~ '^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$'),
    signed_on date not null,
    created_by bigint not null constraint sepa_mandate_created_by_fk references account (id),
    created_at timestamptz not null default clock_timestamp(),
    revoked_at timestamptz,
    revoked_by bigint constraint sepa_mandate_revoked_by_fk references account (id),
    -- `family` or `finance`.
    revoked_as text constraint sepa_mandate_revoked_as_known check (revoked_as in ('family', 'finance')),
    constraint sepa_mandate_revocation_complete check (
        (revoked_at is null) = (revoked_by is null) and (revoked_at is null) = (revoked_as is null))
);
alter sequence sepa_mandate_number owned by sepa_mandate.id;
create unique index sepa_mandate_one_active on sepa_mandate (household_id, activity) where revoked_at is null;
create trigger sepa_mandate_no_delete before delete on sepa_mandate
    for each row execute function refuse_change();

-- One export per invoicing run: its message id and instant, and the collection date asked,
-- fixed at the first export so that exporting again gives the same file.
create table sepa_export (
    id bigint generated always as identity primary key,
    billing_run_id bigint not null constraint sepa_export_run_unique unique
        constraint sepa_export_run_fk references billing_run (id) on delete restrict,
    msg_id text not null constraint sepa_export_msg_id_unique unique,
    created_at timestamptz not null,
    collection_date date not null,
    -- The creditor as configured at the first export.
    creditor_name text not null,
    creditor_iban text not null,
    creditor_bic text not null,
    creditor_ics text not null,
    created_by bigint not null constraint sepa_export_created_by_fk references account (id)
);
create trigger sepa_export_append_only before update or delete on sepa_export
    for each row execute function refuse_change();

-- One collection of one invoice, with what was written for it (the mandate's data as of the
-- export) and the ledger payment recorded for it. An invoice is collected once.
create table sepa_debit (
    id bigint generated always as identity primary key,
    export_id bigint not null constraint sepa_debit_export_fk references sepa_export (id) on delete restrict,
    mandate_id bigint not null constraint sepa_debit_mandate_fk references sepa_mandate (id) on delete restrict,
    household_id bigint not null constraint sepa_debit_household_fk references household (id) on delete restrict,
    invoice_id bigint not null constraint sepa_debit_invoice_unique unique
        constraint sepa_debit_invoice_fk references invoice (id) on delete restrict,
    end_to_end_id text not null constraint sepa_debit_end_to_end_id_unique unique,
    amount_cents bigint not null constraint sepa_debit_amount_positive check (amount_cents > 0),
    sequence_type text not null constraint sepa_debit_sequence_type_known check (sequence_type in ('FRST', 'RCUR')),
    rum text not null,
    signed_on date not null,
    holder text not null,
    iban text not null,
    bic text not null,
    remittance text not null,
    payment_id bigint not null constraint sepa_debit_payment_unique unique
        constraint sepa_debit_payment_fk references payment (id) on delete restrict
);
create index sepa_debit_mandate on sepa_debit (mandate_id);
create index sepa_debit_household on sepa_debit (household_id, id desc);
create trigger sepa_debit_append_only before update or delete on sepa_debit
    for each row execute function refuse_change();

-- A debit the bank returned (R-transaction), entered by finance with its ISO reason code. Once
-- per debit; the key makes a retried entry a no-op.
create table sepa_rejection (
    id bigint generated always as identity primary key,
    debit_id bigint not null constraint sepa_rejection_debit_unique unique
        constraint sepa_rejection_debit_fk references sepa_debit (id) on delete restrict,
    reason_code text not null constraint sepa_rejection_reason_format check (reason_code ~ '^[A-Z0-9]{4}$'),
    idempotency_key text not null constraint sepa_rejection_key_unique unique,
    reversal_entry_id bigint not null constraint sepa_rejection_entry_fk references ledger_entry (id) on delete restrict,
    recorded_by bigint not null constraint sepa_rejection_recorded_by_fk references account (id),
    recorded_at timestamptz not null default clock_timestamp()
);
create trigger sepa_rejection_append_only before update or delete on sepa_rejection
    for each row execute function refuse_change();

-- The ledger's reversal of a payment the bank took back: an owing entry (+) naming the payment
-- it reverses, once per payment. Its allocations give back what the payment settled: a
-- negative allocation per allocation of the payment (the invoices it paid are due again), and
-- the payment's own allocation to the reversal (so the payment leaves no credit behind).
alter table ledger_entry add column reverses_payment_id bigint
    constraint ledger_entry_reverses_payment_fk references payment (id) on delete restrict;
alter table ledger_entry drop constraint ledger_entry_kind_known;
alter table ledger_entry add constraint ledger_entry_kind_known
    check (kind in ('invoice', 'credit_note', 'payment', 'refund', 'reversal'));
alter table ledger_entry drop constraint ledger_entry_sign;
alter table ledger_entry add constraint ledger_entry_sign check (
    (kind in ('invoice', 'refund', 'reversal') and amount_cents >= 0)
    or (kind in ('credit_note', 'payment') and amount_cents <= 0));
alter table ledger_entry add constraint ledger_entry_reversal_names_payment
    check ((kind = 'reversal') = (reverses_payment_id is not null));
create unique index ledger_entry_one_reversal_per_payment on ledger_entry (reverses_payment_id)
    where reverses_payment_id is not null;

alter table allocation add column reversal_entry_id bigint
    constraint allocation_reversal_fk references ledger_entry (id) on delete restrict;
alter table allocation drop constraint allocation_amount_positive;
alter table allocation add constraint allocation_amount_positive
    check (amount_cents > 0 or (amount_cents < 0 and reversal_entry_id is not null));

-- The mails the billing outbox sends about debits: the pre-notification (queued for its day)
-- and the rejection.
alter table billing_mail add column sepa_debit_id bigint
    constraint billing_mail_sepa_debit_fk references sepa_debit (id) on delete restrict;
alter table billing_mail drop constraint billing_mail_kind_known;
alter table billing_mail add constraint billing_mail_kind_known
    check (kind in ('invoice_issued', 'credit_note_issued', 'contest_answered',
                    'debit_announced', 'debit_rejected'));
