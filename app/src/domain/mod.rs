//! The pure domain of the family portal: school calendars, booking deadlines, enrollment and
//! booking rules, and the small value types they use.
//!
//! Nothing here knows about HTTP, SQL or the clock: handlers parse input, load what these
//! functions need, call them with `now`, and store the outcome. Times are computed in
//! Europe/Paris, summer time included, and handed back as UTC instants.

pub mod booking;
pub mod calendar;
pub mod child;
pub mod deadline;
pub mod enrollment;
pub mod weekdays;
