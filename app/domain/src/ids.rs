//! Identifiers of the commune's records. Each is its own type, so a child id can never be
//! passed where a household id is expected: `set_day(household, actor, child, …)` with raw
//! integers once made that mistake easy.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl $name {
            pub fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<$name> for i64 {
            fn from(id: $name) -> i64 {
                id.0
            }
        }
    };
}

id!(
    /// A person who signs in: a guardian, or later a staff member.
    AccountId
);
id!(
    /// A family: its guardians share its children.
    HouseholdId
);
id!(ChildId);
id!(SchoolId);
id!(EnrollmentId);
id!(AbsenceId);
id!(CertificateId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_serialize_as_bare_numbers() {
        let id = ChildId(42);
        let value = toml::Value::try_from(std::collections::BTreeMap::from([("id", id)])).unwrap();
        assert_eq!(value.get("id").and_then(toml::Value::as_integer), Some(42));
        assert_eq!(id.to_string(), "42");
        assert_eq!(i64::from(id), 42);
    }
}
