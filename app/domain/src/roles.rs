//! Staff roles. A family account has none; a staff account has one or more. `school_staff` is
//! granted per school; the other roles are commune-wide.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ids::SchoolId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The canteen agents of one or more schools.
    SchoolStaff,
    Kitchen,
    /// The canteen service: enrollments, closures, the counter.
    Manager,
    Finance,
    /// Staff accounts, roles and settings.
    Admin,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::SchoolStaff,
        Role::Kitchen,
        Role::Manager,
        Role::Finance,
        Role::Admin,
    ];

    /// The stored code, also the API's.
    pub fn code(self) -> &'static str {
        match self {
            Role::SchoolStaff => "school_staff",
            Role::Kitchen => "kitchen",
            Role::Manager => "manager",
            Role::Finance => "finance",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role `{0}`")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(code: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.code() == code)
            .ok_or_else(|| UnknownRole(code.to_owned()))
    }
}

/// The roles of one account.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Roles(u8);

impl Roles {
    pub fn contains(self, role: Role) -> bool {
        self.0 & Self::bit(role) != 0
    }

    pub fn with(self, role: Role) -> Self {
        Self(self.0 | Self::bit(role))
    }

    /// Whether any of `allowed` is held.
    pub fn any_of(self, allowed: &[Role]) -> bool {
        allowed.iter().any(|&r| self.contains(r))
    }

    pub fn is_staff(self) -> bool {
        self.0 != 0
    }

    pub fn iter(self) -> impl Iterator<Item = Role> {
        Role::ALL.into_iter().filter(move |&r| self.contains(r))
    }

    fn bit(role: Role) -> u8 {
        1 << (role as u8)
    }
}

impl FromIterator<Role> for Roles {
    fn from_iter<I: IntoIterator<Item = Role>>(iter: I) -> Self {
        iter.into_iter().fold(Roles::default(), Roles::with)
    }
}

/// Whose families a staff member may see: the whole commune, or the children of their
/// schools (`school_staff` alone). Out of scope looks like "not found".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Commune,
    Schools(Vec<SchoolId>),
}

impl Scope {
    pub fn of(roles: Roles, schools: &[SchoolId]) -> Self {
        if roles.any_of(&[Role::Manager, Role::Finance, Role::Admin, Role::Kitchen]) {
            Scope::Commune
        } else {
            Scope::Schools(schools.to_vec())
        }
    }

    /// The schools as a SQL filter: `None` for every school.
    pub fn school_ids(&self) -> Option<Vec<i64>> {
        match self {
            Scope::Commune => None,
            Scope::Schools(ids) => Some(ids.iter().map(|s| s.get()).collect()),
        }
    }

    pub fn covers(&self, school: SchoolId) -> bool {
        match self {
            Scope::Commune => true,
            Scope::Schools(ids) => ids.contains(&school),
        }
    }
}

/// Who may read health data (allergies, PAI): those who serve the meals.
pub fn reads_health_data(roles: Roles) -> bool {
    roles.any_of(&[Role::Manager, Role::SchoolStaff])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for role in Role::ALL {
            assert_eq!(role.code().parse::<Role>(), Ok(role));
        }
        assert!("canteen_staff".parse::<Role>().is_err());
    }

    #[test]
    fn a_set_holds_what_was_put_in_it() {
        let roles: Roles = [Role::Manager, Role::Finance].into_iter().collect();
        assert!(roles.contains(Role::Manager) && roles.contains(Role::Finance));
        assert!(!roles.contains(Role::Admin));
        assert!(roles.any_of(&[Role::Admin, Role::Finance]));
        assert!(!roles.any_of(&[Role::Admin]));
        assert!(roles.is_staff() && !Roles::default().is_staff());
        assert_eq!(
            roles.iter().collect::<Vec<_>>(),
            [Role::Manager, Role::Finance]
        );
    }

    #[test]
    fn only_school_staff_alone_are_scoped_to_their_schools() {
        let agent: Roles = [Role::SchoolStaff].into_iter().collect();
        let scope = Scope::of(agent, &[SchoolId(1)]);
        assert!(scope.covers(SchoolId(1)) && !scope.covers(SchoolId(2)));
        assert_eq!(scope.school_ids(), Some(vec![1]));
        let manager = agent.with(Role::Manager);
        assert_eq!(Scope::of(manager, &[SchoolId(1)]), Scope::Commune);
        assert!(
            reads_health_data(agent) && !reads_health_data([Role::Finance].into_iter().collect())
        );
    }
}
