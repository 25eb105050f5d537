-- Foreign keys get names we chose, so that the services map a violation by name
-- (`error::on_constraint`) instead of by Postgres' generated `<table>_<column>_fkey`.
alter table account rename constraint account_household_id_fkey to account_household_fk;
alter table account_role rename constraint account_role_account_id_fkey to account_role_account_fk;
alter table closure rename constraint closure_school_id_fkey to closure_school_fk;
alter table child rename constraint child_household_id_fkey to child_household_fk;
alter table child rename constraint child_school_id_fkey to child_school_fk;
alter table enrollment rename constraint enrollment_child_id_fkey to enrollment_child_fk;
alter table enrollment rename constraint enrollment_school_year_id_fkey to enrollment_school_year_fk;
alter table enrollment rename constraint enrollment_requested_by_fkey to enrollment_requested_by_fk;
alter table enrollment rename constraint enrollment_decided_by_fkey to enrollment_decided_by_fk;
alter table reservation rename constraint reservation_child_id_fkey to reservation_child_fk;
alter table reservation_event rename constraint reservation_event_child_id_fkey to reservation_event_child_fk;
alter table reservation_event rename constraint reservation_event_actor_account_id_fkey to reservation_event_actor_fk;
alter table tariff_band rename constraint tariff_band_school_year_id_fkey to tariff_band_school_year_fk;
alter table session rename constraint session_account_id_fkey to session_account_fk;
alter table email_token rename constraint email_token_account_id_fkey to email_token_account_fk;
alter table email_token rename constraint email_token_household_id_fkey to email_token_household_fk;
alter table email_token rename constraint email_token_created_by_fkey to email_token_created_by_fk;

-- The activity is a dimension of enrollments, bookings and their history: garderie,
-- périscolaire and holiday centres will share these tables. The canteen is the only activity
-- today; the check lists the known ones and grows with them.
alter table enrollment add column activity text not null default 'canteen'
    constraint enrollment_activity_known check (activity in ('canteen'));
drop index enrollment_one_live;
create unique index enrollment_one_live on enrollment (child_id, activity, school_year_id)
    where status in ('pending', 'validated');

alter table reservation add column activity text not null default 'canteen'
    constraint reservation_activity_known check (activity in ('canteen'));
alter table reservation drop constraint reservation_pkey;
alter table reservation add constraint reservation_pkey primary key (child_id, activity, service_date);

alter table reservation_event add column activity text not null default 'canteen'
    constraint reservation_event_activity_known check (activity in ('canteen'));
drop index reservation_event_child_day;
create index reservation_event_child_day on reservation_event (child_id, activity, service_date, id);
