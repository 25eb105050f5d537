-- Finance's decision on a PayFiP mismatch (an attempt PayFiP answered paid for something else
-- than what was sent): `accepted` credits the ledger once with the amount PayFiP says it took
-- (payment_id, idempotency key 'payfip-resolution:' || id_op), `dismissed` credits nothing
-- (the money is refunded outside Cantine). One decision per attempt, never changed; with it
-- the invoice may be paid online again. The attempt keeps its state `mismatch`.
create table payfip_resolution (
    id bigint generated always as identity primary key,
    attempt_id bigint not null constraint payfip_resolution_attempt_fk references payfip_attempt (id) on delete restrict
        constraint payfip_resolution_attempt_unique unique,
    decision text not null constraint payfip_resolution_decision_known check (decision in ('accepted', 'dismissed')),
    amount_cents bigint constraint payfip_resolution_amount_positive check (amount_cents > 0),
    payment_id bigint constraint payfip_resolution_payment_fk references payment (id) on delete restrict,
    reason text not null constraint payfip_resolution_reason_given check (length(btrim(reason)) between 1 and 500),
    resolved_by bigint not null constraint payfip_resolution_resolved_by_fk references account (id) on delete restrict,
    resolved_at timestamptz not null,
    constraint payfip_resolution_accepted_credits check (
        (decision = 'accepted') = (payment_id is not null and amount_cents is not null))
);
create trigger payfip_resolution_append_only before update or delete on payfip_resolution
    for each row execute function refuse_change();
