-- The foundation schema: schools, the school year and its closures, households and their
-- guardians and children, enrollments, reservations with their append-only history, tariffs.
-- Money is integer cents. Constraint names are stable: the HTTP layer maps them to problems.

create or replace function set_updated_at() returns trigger language plpgsql as $$
begin
    new.updated_at = now();
    return new;
end;
$$;

-- History tables are evidence (who changed what, when): rows are never rewritten.
create or replace function refuse_change() returns trigger language plpgsql as $$
begin
    raise exception '% is append-only', tg_table_name using errcode = 'restrict_violation';
end;
$$;

create table school (
    id bigint generated always as identity primary key,
    name text not null constraint school_name_unique unique,
    address text not null default '',
    -- ISO weekdays (1 = Monday) on which the canteen serves.
    service_weekdays smallint[] not null default '{1,2,4,5}'
        constraint school_weekdays_valid check (service_weekdays <@ '{1,2,3,4,5,6,7}'::smallint[]),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create trigger school_updated_at before update on school
    for each row execute function set_updated_at();

create table school_year (
    id bigint generated always as identity primary key,
    label text not null constraint school_year_label_unique unique
        constraint school_year_label_format check (label ~ '^[0-9]{4}-[0-9]{4}$'),
    first_day date not null,
    last_day date not null,
    constraint school_year_days_ordered check (first_day < last_day)
);

-- Days a school (or, with no school, every school) does not serve: strike, works.
create table closure (
    id bigint generated always as identity primary key,
    school_id bigint references school (id) on delete cascade,
    first_day date not null,
    last_day date not null,
    reason text not null constraint closure_reason_present check (length(trim(reason)) > 0),
    created_at timestamptz not null default now(),
    constraint closure_days_ordered check (first_day <= last_day)
);

create table household (
    id bigint generated always as identity primary key,
    -- Quotient familial in euros, as the CAF states it; it picks the tariff band.
    quotient_familial integer constraint household_qf_positive check (quotient_familial >= 0),
    created_at timestamptz not null default now()
);

-- Anyone who logs in. Guardians belong to a household; staff have roles instead.
create table account (
    id bigint generated always as identity primary key,
    household_id bigint references household (id) on delete restrict,
    email text not null,
    password_hash text not null,
    first_name text not null,
    last_name text not null,
    phone text not null default '',
    email_confirmed_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint account_email_lowercase check (email = lower(email))
);
create unique index account_email_unique on account (email);
create index account_household on account (household_id);
create trigger account_updated_at before update on account
    for each row execute function set_updated_at();

create table account_role (
    account_id bigint not null references account (id) on delete cascade,
    role text not null constraint account_role_known
        check (role in ('admin', 'manager', 'canteen_staff', 'school_staff', 'finance')),
    primary key (account_id, role)
);

create table child (
    id bigint generated always as identity primary key,
    household_id bigint not null references household (id) on delete restrict,
    first_name text not null constraint child_first_name_present check (length(trim(first_name)) > 0),
    last_name text not null constraint child_last_name_present check (length(trim(last_name)) > 0),
    birth_date date not null,
    school_id bigint not null references school (id) on delete restrict,
    class_level text not null constraint child_class_level_known
        check (class_level in ('PS', 'MS', 'GS', 'CP', 'CE1', 'CE2', 'CM1', 'CM2')),
    diet text not null default 'standard' constraint child_diet_known
        check (diet in ('standard', 'vegetarian', 'no_pork')),
    allergies text not null default '',
    -- Projet d'accueil individualisé: the child brings a packed meal, charged at the PAI price.
    pai boolean not null default false,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create index child_household on child (household_id);
create trigger child_updated_at before update on child
    for each row execute function set_updated_at();

create table enrollment (
    id bigint generated always as identity primary key,
    child_id bigint not null references child (id) on delete restrict,
    school_year_id bigint not null references school_year (id) on delete restrict,
    weekdays smallint[] not null
        constraint enrollment_weekdays_valid check (weekdays <@ '{1,2,3,4,5,6,7}'::smallint[]),
    status text not null default 'pending' constraint enrollment_status_known
        check (status in ('pending', 'validated', 'rejected', 'cancelled')),
    decision_reason text,
    requested_by bigint references account (id),
    requested_at timestamptz not null default now(),
    decided_by bigint references account (id),
    decided_at timestamptz,
    constraint enrollment_rejection_has_reason
        check (status <> 'rejected' or length(trim(coalesce(decision_reason, ''))) > 0)
);
-- One live enrollment per child and year; a rejected or cancelled one may be requested again.
create unique index enrollment_one_live on enrollment (child_id, school_year_id)
    where status in ('pending', 'validated');

-- The current state, one row per child and day ever touched.
create table reservation (
    child_id bigint not null references child (id) on delete restrict,
    service_date date not null,
    booked boolean not null,
    updated_at timestamptz not null default now(),
    primary key (child_id, service_date)
);

-- Every change to `reservation`, in order: who, when, from what to what, and through which path.
create table reservation_event (
    id bigint generated always as identity primary key,
    child_id bigint not null references child (id) on delete restrict,
    service_date date not null,
    old_booked boolean not null,
    new_booked boolean not null,
    actor_account_id bigint references account (id),
    source text not null constraint reservation_event_source_known
        check (source in ('parent', 'pattern', 'enrollment', 'staff')),
    created_at timestamptz not null default clock_timestamp()
);
create index reservation_event_child_day on reservation_event (child_id, service_date, id);
create trigger reservation_event_append_only before update or delete on reservation_event
    for each row execute function refuse_change();

-- Price per meal by quotient familial band, per school year. Bands must not overlap.
create table tariff_band (
    id bigint generated always as identity primary key,
    school_year_id bigint not null references school_year (id) on delete restrict,
    qf_min integer not null constraint tariff_band_qf_min_positive check (qf_min >= 0),
    qf_max integer,
    meal_price_cents integer not null constraint tariff_band_meal_price check (meal_price_cents >= 0),
    pai_price_cents integer not null constraint tariff_band_pai_price check (pai_price_cents >= 0),
    constraint tariff_band_qf_ordered check (qf_max is null or qf_min < qf_max)
);
create unique index tariff_band_start on tariff_band (school_year_id, qf_min);
