-- The canteen day's shared data: a child's allergies become structured, and menus are
-- entered per day with their dishes' allergens, regimes and quality signs. The code lists
-- are cantine_domain::menu's; the checks below repeat them so that no stray value is stored.

create function allergens_known(text[]) returns boolean language sql immutable parallel safe as $$
    select $1 <@ array['gluten', 'crustaceans', 'eggs', 'fish', 'peanuts', 'soybeans', 'milk',
                       'nuts', 'celery', 'mustard', 'sesame', 'sulphites', 'lupin', 'molluscs']
$$;

-- The 14 allergens of Annex II as ticked boxes; `allergies` keeps its free text, now the
-- details (what exactly, how severe), so nothing a family wrote is lost.
alter table child add column allergens text[] not null default '{}'
    constraint child_allergens_known check (allergens_known(allergens));
comment on column child.allergies is 'free-text details of the allergies; the allergens themselves are in child.allergens';

-- A day's menu, for every school (school_id null) or for one school, which then replaces
-- the commune's menu that day for that school.
create table menu_day (
    id bigint generated always as identity primary key,
    activity text not null default 'canteen' constraint menu_day_activity_known check (activity in ('canteen')),
    service_date date not null,
    school_id bigint constraint menu_day_school_fk references school (id) on delete cascade,
    published_at timestamptz not null default clock_timestamp(),
    updated_at timestamptz not null default clock_timestamp(),
    updated_by bigint constraint menu_day_updated_by_fk references account (id),
    constraint menu_day_one_per_scope unique nulls not distinct (activity, service_date, school_id)
);
create index menu_day_date on menu_day (activity, service_date);

create table dish (
    id bigint generated always as identity primary key,
    menu_day_id bigint not null constraint dish_menu_day_fk references menu_day (id) on delete cascade,
    position smallint not null,
    course text not null constraint dish_course_known
        check (course in ('starter', 'main', 'side', 'dairy', 'dessert', 'bread', 'snack')),
    name text not null constraint dish_name_length check (length(trim(name)) between 1 and 159),
    allergens text[] not null default '{}' constraint dish_allergens_known check (allergens_known(allergens)),
    regimes text[] not null default '{}'
        constraint dish_regimes_known check (regimes <@ array['vegetarian', 'no_pork', 'no_added_sugar']),
    quality_signs text[] not null default '{}'
        constraint dish_quality_signs_known
        check (quality_signs <@ array['organic', 'label_rouge', 'aop', 'igp', 'local', 'home_made']),
    constraint dish_position_unique unique (menu_day_id, position)
);
