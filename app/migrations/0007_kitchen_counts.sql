-- Kitchen counts frozen at each day's booking deadline, and the caterer's mail as a durable
-- outbox. What the kitchen was told is recorded once and never changed: a later closure or a
-- manager's override shows as a difference between the live count and this row.

create table kitchen_count (
    id bigint generated always as identity primary key,
    activity text not null default 'canteen' constraint kitchen_count_activity_known check (activity in ('canteen')),
    school_id bigint not null constraint kitchen_count_school_fk references school (id) on delete restrict,
    service_date date not null,
    -- The day's booking deadline under the commune's rule, and when the freeze was recorded:
    -- within a worker's tick of the deadline, or later when the service was down across it.
    deadline timestamptz not null,
    frozen_at timestamptz not null,
    standard integer not null constraint kitchen_count_standard_positive check (standard >= 0),
    vegetarian integer not null constraint kitchen_count_vegetarian_positive check (vegetarian >= 0),
    no_pork integer not null constraint kitchen_count_no_pork_positive check (no_pork >= 0),
    -- Children with a PAI bring a packed meal whatever their diet.
    pai integer not null constraint kitchen_count_pai_positive check (pai >= 0),
    adults integer not null constraint kitchen_count_adults_positive check (adults >= 0),
    -- The allergens of the day's menu, and those declared by the booked children with how
    -- many children declared each ({"peanuts": 2}).
    menu_allergens text[] not null default '{}' constraint kitchen_count_menu_allergens_known check (allergens_known(menu_allergens)),
    child_allergens jsonb not null default '{}' constraint kitchen_count_child_allergens_object check (jsonb_typeof(child_allergens) = 'object'),
    constraint kitchen_count_one_per_day unique (activity, school_id, service_date)
);

create trigger kitchen_count_append_only before update or delete on kitchen_count
    for each row execute function refuse_change();
create trigger kitchen_count_no_truncate before truncate on kitchen_count
    for each statement execute function refuse_change();

-- One caterer mail per (activity, school, day), enqueued in the freeze's transaction. The
-- sender claims a row with `for update skip locked`, so two instances never send the same
-- row; `sent_at` set in the same transaction as the claim closes it.
create table kitchen_mail (
    id bigint generated always as identity primary key,
    activity text not null default 'canteen' constraint kitchen_mail_activity_known check (activity in ('canteen')),
    school_id bigint not null constraint kitchen_mail_school_fk references school (id) on delete restrict,
    service_date date not null,
    count_id bigint not null constraint kitchen_mail_count_fk references kitchen_count (id) on delete restrict,
    recipient text not null constraint kitchen_mail_recipient_present check (length(trim(recipient)) > 0),
    created_at timestamptz not null,
    attempts integer not null default 0,
    next_attempt_at timestamptz not null,
    last_error text,
    sent_at timestamptz,
    constraint kitchen_mail_one_per_day unique (activity, school_id, service_date)
);
create index kitchen_mail_due on kitchen_mail (next_attempt_at) where sent_at is null;

-- The counts read a day's bookings across every child.
create index reservation_booked_day on reservation (activity, service_date) where booked;
