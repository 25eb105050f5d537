//! The activity a booking, an attendance mark or an invoice line is for. The canteen is the
//! only one today; garderie, périscolaire and holiday centres will share accounts, bookings,
//! attendance and invoices, so the activity is a dimension of those records from the start
//! (the `activity` columns of migration 0003) rather than an assumption baked into each table.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activity {
    Canteen,
}

impl Activity {
    /// The stored code, also the `activity` column's value.
    pub fn code(self) -> &'static str {
        match self {
            Activity::Canteen => "canteen",
        }
    }
}

impl fmt::Display for Activity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown activity `{0}`")]
pub struct UnknownActivity(pub String);

impl FromStr for Activity {
    type Err = UnknownActivity;

    fn from_str(code: &str) -> Result<Self, Self::Err> {
        match code {
            "canteen" => Ok(Activity::Canteen),
            other => Err(UnknownActivity(other.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_unknown_ones_are_refused() {
        assert_eq!("canteen".parse::<Activity>(), Ok(Activity::Canteen));
        assert_eq!(Activity::Canteen.to_string(), "canteen");
        assert!("garderie".parse::<Activity>().is_err());
    }
}
