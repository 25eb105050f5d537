-- The town hall's back office: staff roles (some per school), a second factor for staff,
-- counter-mode households without an e-mail address, the quotient familial's history, who
-- closed a day, household search, and the audit log.

-- Roles. `canteen_staff` was never granted by any code; it becomes `kitchen`.
alter table account_role drop constraint account_role_known;
update account_role set role = 'kitchen' where role = 'canteen_staff';
alter table account_role add constraint account_role_known
    check (role in ('school_staff', 'kitchen', 'manager', 'finance', 'admin'));

-- The schools a `school_staff` member works in; the other roles are commune-wide.
create table staff_school (
    account_id bigint not null constraint staff_school_account_fk references account (id) on delete cascade,
    school_id bigint not null constraint staff_school_school_fk references school (id) on delete cascade,
    primary key (account_id, school_id)
);

-- A guardian met at the town-hall counter may have no e-mail address (the letters are
-- printed); a staff member has an address but no password until they follow their link.
alter table account alter column email drop not null;
alter table account alter column password_hash drop not null;
alter table account add constraint account_email_or_household
    check (email is not null or household_id is not null);
alter table account add column postal_address text not null default '';

-- RFC 6238 second factor. `last_step` is the newest 30-second step accepted: a code is good
-- once. `enrolled_at` is null while the member has been shown the secret but not yet proved
-- they stored it.
create table totp_credential (
    account_id bigint primary key constraint totp_credential_account_fk references account (id) on delete cascade,
    secret bytea not null constraint totp_secret_length check (length(secret) >= 16),
    last_step bigint,
    created_at timestamptz not null default now(),
    enrolled_at timestamptz
);

-- Single-use recovery codes, stored as SHA-256 digests (they carry 80 random bits).
create table recovery_code (
    account_id bigint not null constraint recovery_code_account_fk references account (id) on delete cascade,
    code_hash bytea not null,
    used_at timestamptz,
    primary key (account_id, code_hash)
);

-- A staff session opened by the password alone may only enrol the second factor.
alter table session add column stage text not null default 'full'
    constraint session_stage_known check (stage in ('full', 'enrol_second_factor'));

alter table email_token drop constraint email_token_purpose_known;
alter table email_token add constraint email_token_purpose_known
    check (purpose in ('confirm_email', 'invite_guardian', 'set_password'));
alter table email_token drop constraint email_token_target;
alter table email_token add constraint email_token_target check (
    (purpose in ('confirm_email', 'set_password') and account_id is not null)
    or (purpose = 'invite_guardian' and household_id is not null and email is not null));

-- The quotient familial as a history: each value with the day it applies from and the
-- document seen. Billing reads the value applying on each day; nothing is overwritten.
create table quotient_familial (
    id bigint generated always as identity primary key,
    household_id bigint not null constraint quotient_familial_household_fk references household (id) on delete restrict,
    amount_euros integer not null constraint quotient_familial_positive check (amount_euros >= 0),
    applies_from date not null,
    document text not null constraint quotient_familial_document_present check (length(trim(document)) > 0),
    recorded_by bigint constraint quotient_familial_recorded_by_fk references account (id),
    recorded_at timestamptz not null default clock_timestamp()
);
create index quotient_familial_household on quotient_familial (household_id, applies_from, id);
create trigger quotient_familial_append_only before update or delete on quotient_familial
    for each row execute function refuse_change();
-- The values the demo and earlier versions kept on the household apply from its creation.
insert into quotient_familial (household_id, amount_euros, applies_from, document)
select id, quotient_familial, created_at::date, 'Valeur reprise de la version précédente'
from household where quotient_familial is not null;

alter table closure add column created_by bigint constraint closure_created_by_fk references account (id);

-- A manager may book or cancel for a family (at the counter, after the deadline), and a
-- closure cancels bookings: both say why.
alter table reservation_event drop constraint reservation_event_source_known;
alter table reservation_event add constraint reservation_event_source_known
    check (source in ('parent', 'pattern', 'enrollment', 'staff', 'closure'));
alter table reservation_event add column reason text;

-- Household search: one normalized text per household (guardians' names, e-mails and phone
-- digits, children's names), lowercased with accents removed, under a trigram index so that
-- `like '%…%'` is fast on any part of it.
create extension if not exists pg_trgm;

create function search_normal(text) returns text language sql immutable parallel safe as $$
    select translate(lower($1),
        'àáâãäåāçćčèéêëēėęìíîïīñòóôõöøōùúûüūýÿžœæ',
        'aaaaaaaccceeeeeeeiiiiinooooooouuuuuyyzoa')
$$;

alter table household add column search_text text not null default '';
create index household_search on household using gin (search_text gin_trgm_ops);

create function refresh_household_search(target bigint) returns void language sql as $$
    update household h set search_text = search_normal(concat_ws(' ',
        (select string_agg(concat_ws(' ', a.first_name, a.last_name, a.email,
                                     regexp_replace(a.phone, '[^0-9]', '', 'g')), ' ')
         from account a where a.household_id = h.id),
        (select string_agg(concat_ws(' ', c.first_name, c.last_name), ' ')
         from child c where c.household_id = h.id)))
    where h.id = target
$$;

create function household_search_changed() returns trigger language plpgsql as $$
begin
    if tg_op in ('UPDATE', 'DELETE') and old.household_id is not null then
        perform refresh_household_search(old.household_id);
    end if;
    if tg_op in ('INSERT', 'UPDATE') and new.household_id is not null
        and (tg_op = 'INSERT' or new.household_id is distinct from old.household_id) then
        perform refresh_household_search(new.household_id);
    end if;
    return null;
end;
$$;
create trigger account_search after insert or delete or update of first_name, last_name, email, phone, household_id
    on account for each row execute function household_search_changed();
create trigger child_search after insert or delete or update of first_name, last_name, household_id
    on child for each row execute function household_search_changed();
select refresh_household_search(id) from household;

-- The audit log: who did what, when, on which household or child, from which address. Rows
-- are never changed nor removed, not even by TRUNCATE; no foreign key, so that evidence never
-- blocks nor follows a deletion.
create table audit_entry (
    id bigint generated always as identity primary key,
    at timestamptz not null default clock_timestamp(),
    actor_account_id bigint,
    actor_email text,
    action text not null,
    household_id bigint,
    child_id bigint,
    detail jsonb not null default '{}',
    client_ip text
);
create index audit_entry_at on audit_entry (at, id);
create index audit_entry_household on audit_entry (household_id, id) where household_id is not null;
create index audit_entry_actor on audit_entry (actor_account_id, id);
create trigger audit_entry_append_only before update or delete on audit_entry
    for each row execute function refuse_change();
create trigger audit_entry_no_truncate before truncate on audit_entry
    for each statement execute function refuse_change();

-- The history is now the only place of the quotient familial.
alter table household drop column quotient_familial;

-- No booking on a closed day. The booking path reads the closures with the child's lock, in a
-- snapshot taken before it waited for that lock: a closure committed meanwhile is checked
-- here, by a query that sees it.
create function reservation_not_on_closure() returns trigger language plpgsql as $$
begin
    if new.booked and exists (
        select 1 from closure cl join child c on c.id = new.child_id
        where (cl.school_id is null or cl.school_id = c.school_id)
          and new.service_date between cl.first_day and cl.last_day) then
        raise exception 'reservation on a closed day'
            using errcode = 'check_violation', constraint = 'reservation_not_on_closure';
    end if;
    return new;
end;
$$;
create trigger reservation_not_on_closure before insert or update of booked on reservation
    for each row execute function reservation_not_on_closure();
