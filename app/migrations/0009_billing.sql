-- Billing: régies, tariffs as of each day, invoices and credit notes numbered without gaps,
-- an append-only ledger per household, contests, shared custody, and the mail outbox that
-- tells families their invoice is out. Amounts are integer cents (bigint for sums).

-- A régie de recettes collects for the commune; invoices are numbered per régie and year.
create table regie (
    id bigint generated always as identity primary key,
    code text not null constraint regie_code_unique unique
        constraint regie_code_format check (code ~ '^[A-Z0-9]{2,10}$'),
    name text not null constraint regie_name_present check (length(trim(name)) > 0)
);
insert into regie (code, name) values ('CANT', 'Régie de la restauration scolaire');
create function default_regie() returns bigint language sql stable as $$
    select min(id) from regie
$$;
alter table school add column regie_id bigint not null default default_regie()
    constraint school_regie_fk references regie (id) on delete restrict;

-- What an invoice and the public accountant need of a household.
alter table household add column resident boolean not null default true;
alter table household add column address_line1 text not null default '';
alter table household add column address_line2 text not null default '';
alter table household add column postcode text not null default ''
    constraint household_postcode_format check (postcode = '' or postcode ~ '^[0-9]{5}$');
alter table household add column city text not null default '';

-- A tariff version applies from a day until the next version of the same year and activity:
-- a price change in January leaves autumn's lines as they were billed.
create table tariff (
    id bigint generated always as identity primary key,
    school_year_id bigint not null constraint tariff_school_year_fk references school_year (id) on delete restrict,
    activity text not null default 'canteen' constraint tariff_activity_known check (activity in ('canteen')),
    applies_from date not null,
    mode text not null constraint tariff_mode_known check (mode in ('brackets', 'effort_rate')),
    -- Millionths of a euro per euro of QF (4500 = 0.45 %), with its bounds.
    effort_rate_millionths integer constraint tariff_effort_rate_positive check (effort_rate_millionths > 0),
    effort_min_cents integer constraint tariff_effort_min check (effort_min_cents >= 0),
    effort_max_cents integer constraint tariff_effort_max check (effort_max_cents >= 0),
    pai_cents integer not null constraint tariff_pai check (pai_cents >= 0),
    non_resident_cents integer not null constraint tariff_non_resident check (non_resident_cents >= 0),
    adult_cents integer not null constraint tariff_adult check (adult_cents >= 0),
    -- Exactly one unbooked rule: a surcharge in cents or a multiplier in percent.
    unbooked_surcharge_cents integer constraint tariff_unbooked_surcharge check (unbooked_surcharge_cents >= 0),
    unbooked_multiplier_percent integer constraint tariff_unbooked_multiplier check (unbooked_multiplier_percent between 100 and 1000),
    carence_days integer not null default 0 constraint tariff_carence check (carence_days between 0 and 30),
    created_by bigint constraint tariff_created_by_fk references account (id),
    created_at timestamptz not null default clock_timestamp(),
    constraint tariff_effort_complete check (
        (mode = 'effort_rate' and effort_rate_millionths is not null and effort_min_cents is not null
         and effort_max_cents is not null and effort_min_cents <= effort_max_cents)
        or (mode = 'brackets' and effort_rate_millionths is null)),
    constraint tariff_one_unbooked_rule check (
        (unbooked_surcharge_cents is null) <> (unbooked_multiplier_percent is null))
);
create unique index tariff_version on tariff (school_year_id, activity, applies_from);
create trigger tariff_append_only before update or delete on tariff
    for each row execute function refuse_change();

-- Brackets now belong to a tariff version. Existing grids become each year's first version;
-- their PAI prices (one per band before) give way to the tariff's single PAI price, the
-- highest of the old ones so that nobody is charged more than before.
alter table tariff_band add column tariff_id bigint constraint tariff_band_tariff_fk references tariff (id) on delete restrict;
insert into tariff (school_year_id, applies_from, mode, pai_cents, non_resident_cents, adult_cents,
                    unbooked_surcharge_cents)
select y.id, y.first_day, 'brackets', max(b.pai_price_cents), max(b.meal_price_cents),
       max(b.meal_price_cents), 0
from school_year y join tariff_band b on b.school_year_id = y.id
group by y.id, y.first_day;
update tariff_band b set tariff_id = t.id from tariff t where t.school_year_id = b.school_year_id;
alter table tariff_band alter column tariff_id set not null;
drop index tariff_band_start;
alter table tariff_band drop column school_year_id;
alter table tariff_band drop column pai_price_cents;
create unique index tariff_band_start on tariff_band (tariff_id, qf_min);
create trigger tariff_band_append_only before update or delete on tariff_band
    for each row execute function refuse_change();

-- Shared custody: the child's own household is the first, `other_household_id` the second.
create table custody (
    child_id bigint primary key constraint custody_child_fk references child (id) on delete restrict,
    other_household_id bigint not null constraint custody_other_household_fk references household (id) on delete restrict,
    arrangement text not null constraint custody_arrangement_known
        check (arrangement in ('alternate_weeks', 'ranges', 'shares')),
    first_has_even_weeks boolean,
    first_basis_points integer constraint custody_share_range check (first_basis_points between 1 and 9999),
    -- The judgement or agreement it comes from, as the agent saw it.
    reference text not null default '',
    updated_by bigint constraint custody_updated_by_fk references account (id),
    updated_at timestamptz not null default now(),
    constraint custody_arrangement_complete check (
        (arrangement = 'alternate_weeks' and first_has_even_weeks is not null and first_basis_points is null)
        or (arrangement = 'shares' and first_basis_points is not null and first_has_even_weeks is null)
        or (arrangement = 'ranges' and first_has_even_weeks is null and first_basis_points is null))
);
create index custody_other_household on custody (other_household_id);
create trigger custody_updated_at before update on custody
    for each row execute function set_updated_at();

-- The days given to the second household, for `ranges`.
create table custody_range (
    id bigint generated always as identity primary key,
    child_id bigint not null constraint custody_range_custody_fk references custody (child_id) on delete cascade,
    first_day date not null,
    last_day date not null,
    constraint custody_range_ordered check (first_day <= last_day)
);
create index custody_range_child on custody_range (child_id, first_day);

-- One invoicing run per régie, activity and month: a draft that finance reviews, then issues.
create table billing_run (
    id bigint generated always as identity primary key,
    regie_id bigint not null constraint billing_run_regie_fk references regie (id) on delete restrict,
    activity text not null default 'canteen' constraint billing_run_activity_known check (activity in ('canteen')),
    month date not null constraint billing_run_month_first_day check (extract(day from month) = 1),
    status text not null default 'draft' constraint billing_run_status_known check (status in ('draft', 'issued')),
    created_by bigint constraint billing_run_created_by_fk references account (id),
    created_at timestamptz not null default clock_timestamp(),
    issued_by bigint constraint billing_run_issued_by_fk references account (id),
    issued_at timestamptz,
    constraint billing_run_issue_complete check ((status = 'issued') = (issued_at is not null))
);
create unique index billing_run_one_per_month on billing_run (regie_id, activity, month);

-- Gapless numbers: the issuing transaction takes the row lock and increments it, so a number
-- is used exactly when its invoice commits.
create table invoice_sequence (
    regie_id bigint not null constraint invoice_sequence_regie_fk references regie (id) on delete restrict,
    year integer not null,
    kind text not null constraint invoice_sequence_kind_known check (kind in ('invoice', 'credit_note')),
    last_number integer not null default 0,
    primary key (regie_id, year, kind)
);

create table invoice (
    id bigint generated always as identity primary key,
    regie_id bigint not null constraint invoice_regie_fk references regie (id) on delete restrict,
    household_id bigint not null constraint invoice_household_fk references household (id) on delete restrict,
    kind text not null default 'invoice' constraint invoice_kind_known check (kind in ('invoice', 'credit_note')),
    billing_run_id bigint constraint invoice_billing_run_fk references billing_run (id) on delete restrict,
    -- The month billed (credit notes: the corrected invoice's month).
    month date not null constraint invoice_month_first_day check (extract(day from month) = 1),
    number text constraint invoice_number_unique unique,
    status text not null default 'draft' constraint invoice_status_known check (status in ('draft', 'issued')),
    -- Always positive or zero: a credit note's amount is what it credits.
    amount_cents bigint not null constraint invoice_amount_positive check (amount_cents >= 0),
    corrects_invoice_id bigint constraint invoice_corrects_fk references invoice (id) on delete restrict,
    reason text,
    created_by bigint constraint invoice_created_by_fk references account (id),
    created_at timestamptz not null default clock_timestamp(),
    issued_at timestamptz,
    constraint invoice_issue_complete check ((status = 'issued') = (issued_at is not null and number is not null)),
    -- A credit note names the invoice it corrects, except one a run makes when a month's
    -- regularisations outweigh its charges.
    constraint invoice_corrects_only_credit_notes check (kind = 'credit_note' or corrects_invoice_id is null),
    constraint invoice_credit_note_reason check (
        kind <> 'credit_note' or length(trim(coalesce(reason, ''))) > 0)
);
create index invoice_household on invoice (household_id, month desc, id);
create index invoice_run on invoice (billing_run_id);

create table invoice_line (
    id bigint generated always as identity primary key,
    invoice_id bigint not null constraint invoice_line_invoice_fk references invoice (id) on delete cascade,
    position integer not null,
    activity text not null default 'canteen' constraint invoice_line_activity_known check (activity in ('canteen')),
    child_id bigint constraint invoice_line_child_fk references child (id) on delete restrict,
    service_date date,
    kind text not null constraint invoice_line_kind_known check (kind in (
        'meal', 'booked_not_recorded', 'unbooked', 'no_show', 'illness_carence', 'illness_free',
        'excused_absence', 'late_absence', 'closure', 'regularisation', 'credit')),
    -- Negative only on regularisations (a day billed too much before).
    amount_cents bigint not null,
    -- The meal's price and why (`cantine_domain::tariff::PriceBasis`), the share paid in shared
    -- custody, and for a regularisation what was billed before and what happened since.
    explanation jsonb not null default '{}',
    -- The line of an earlier invoice a credit note corrects, if it names one.
    credits_line_id bigint constraint invoice_line_credits_fk references invoice_line (id) on delete restrict,
    constraint invoice_line_position_unique unique (invoice_id, position),
    constraint invoice_line_day_lines_have_a_day check (
        kind = 'credit' or (child_id is not null and service_date is not null))
);
-- What was billed for a child's day: the regularisation compares against it.
create index invoice_line_day on invoice_line (child_id, activity, service_date);

-- An issued invoice or credit note is never edited, nor are its lines.
create function invoice_issued_final() returns trigger language plpgsql as $$
begin
    if old.status = 'issued' then
        raise exception 'invoice % is issued', old.id
            using errcode = 'check_violation', constraint = 'invoice_issued_final';
    end if;
    return case when tg_op = 'DELETE' then old else new end;
end;
$$;
create trigger invoice_issued_final before update or delete on invoice
    for each row execute function invoice_issued_final();
create function invoice_line_issued_final() returns trigger language plpgsql as $$
begin
    if exists (select 1 from invoice where id = old.invoice_id and status = 'issued') then
        raise exception 'invoice % is issued', old.invoice_id
            using errcode = 'check_violation', constraint = 'invoice_issued_final';
    end if;
    return case when tg_op = 'DELETE' then old else new end;
end;
$$;
create trigger invoice_line_issued_final before update or delete on invoice_line
    for each row execute function invoice_line_issued_final();

-- Money received, by any means. The idempotency key makes a retried recording a no-op.
create table payment (
    id bigint generated always as identity primary key,
    household_id bigint not null constraint payment_household_fk references household (id) on delete restrict,
    regie_id bigint not null constraint payment_regie_fk references regie (id) on delete restrict,
    amount_cents bigint not null constraint payment_amount_positive check (amount_cents > 0),
    means text not null constraint payment_means_known
        check (means in ('card', 'sepa_debit', 'cash', 'cheque', 'transfer', 'cesu', 'payfip')),
    reference text not null default '',
    received_on date not null,
    idempotency_key text not null constraint payment_idempotency_key_unique unique,
    recorded_by bigint constraint payment_recorded_by_fk references account (id),
    recorded_at timestamptz not null default clock_timestamp()
);
create trigger payment_append_only before update or delete on payment
    for each row execute function refuse_change();

-- The household's ledger: + what it owes (invoices, refunds paid out to it), − what settles it
-- (payments, credit notes). The balance is the sum, never stored apart.
create table ledger_entry (
    id bigint generated always as identity primary key,
    household_id bigint not null constraint ledger_entry_household_fk references household (id) on delete restrict,
    regie_id bigint not null constraint ledger_entry_regie_fk references regie (id) on delete restrict,
    kind text not null constraint ledger_entry_kind_known check (kind in ('invoice', 'credit_note', 'payment', 'refund')),
    amount_cents bigint not null,
    invoice_id bigint constraint ledger_entry_invoice_fk references invoice (id) on delete restrict,
    payment_id bigint constraint ledger_entry_payment_fk references payment (id) on delete restrict,
    memo text not null default '',
    recorded_by bigint constraint ledger_entry_recorded_by_fk references account (id),
    at timestamptz not null default clock_timestamp(),
    constraint ledger_entry_sign check (
        (kind in ('invoice', 'refund') and amount_cents >= 0)
        or (kind in ('credit_note', 'payment') and amount_cents <= 0)),
    constraint ledger_entry_source check (
        (kind in ('invoice', 'credit_note')) = (invoice_id is not null)
        and (kind = 'payment') = (payment_id is not null))
);
create unique index ledger_entry_one_per_invoice on ledger_entry (invoice_id) where invoice_id is not null;
create unique index ledger_entry_one_per_payment on ledger_entry (payment_id) where payment_id is not null;
create index ledger_entry_household on ledger_entry (household_id, id);
create trigger ledger_entry_append_only before update or delete on ledger_entry
    for each row execute function refuse_change();

-- Which settling entry (payment, credit note) pays which owing entry (invoice, refund), and
-- how much: an invoice's paid amount, and a household's unused credit, come from here.
create table allocation (
    id bigint generated always as identity primary key,
    source_entry_id bigint not null constraint allocation_source_fk references ledger_entry (id) on delete restrict,
    target_entry_id bigint not null constraint allocation_target_fk references ledger_entry (id) on delete restrict,
    amount_cents bigint not null constraint allocation_amount_positive check (amount_cents > 0),
    at timestamptz not null default clock_timestamp()
);
create index allocation_source on allocation (source_entry_id);
create index allocation_target on allocation (target_entry_id);
create trigger allocation_append_only before update or delete on allocation
    for each row execute function refuse_change();

-- A family contests an invoice line; finance answers, with a credit note or without.
create table contest (
    id bigint generated always as identity primary key,
    invoice_line_id bigint not null constraint contest_line_fk references invoice_line (id) on delete restrict,
    household_id bigint not null constraint contest_household_fk references household (id) on delete restrict,
    message text not null constraint contest_message_length check (length(trim(message)) between 1 and 2000),
    created_by bigint not null constraint contest_created_by_fk references account (id),
    created_at timestamptz not null default clock_timestamp(),
    status text not null default 'open' constraint contest_status_known check (status in ('open', 'answered')),
    answer text constraint contest_answer_length check (answer is null or length(trim(answer)) between 1 and 2000),
    answered_by bigint constraint contest_answered_by_fk references account (id),
    answered_at timestamptz,
    credit_note_id bigint constraint contest_credit_note_fk references invoice (id) on delete restrict,
    constraint contest_answer_complete check (
        (status = 'open' and answer is null and answered_at is null and credit_note_id is null)
        or (status = 'answered' and answer is not null and answered_at is not null))
);
create unique index contest_one_open_per_line on contest (invoice_line_id) where status = 'open';
create index contest_open on contest (created_at, id) where status = 'open';

-- Mails about money, sent after the transaction that decided them: a mail that fails is
-- retried with backoff and never holds up an invoicing run.
create table billing_mail (
    id bigint generated always as identity primary key,
    kind text not null constraint billing_mail_kind_known
        check (kind in ('invoice_issued', 'credit_note_issued', 'contest_answered')),
    household_id bigint not null constraint billing_mail_household_fk references household (id) on delete restrict,
    invoice_id bigint constraint billing_mail_invoice_fk references invoice (id) on delete restrict,
    contest_id bigint constraint billing_mail_contest_fk references contest (id) on delete restrict,
    created_at timestamptz not null default clock_timestamp(),
    attempts integer not null default 0,
    next_attempt_at timestamptz not null default clock_timestamp(),
    sent_at timestamptz,
    last_error text
);
create index billing_mail_due on billing_mail (next_attempt_at) where sent_at is null;
