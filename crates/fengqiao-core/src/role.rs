//! Roles and the permissions they grant.
//!
//! Administrator, security administrator and auditor are kept apart (三员分立):
//! no account may hold two of them, so nobody can both change the system and
//! read the trail of that change.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{FieldError, Reason};
use crate::label::labels;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 指挥员: command-room operator.
    Operator,
    /// 社区民警: community officer.
    CommunityOfficer,
    /// 辅警: auxiliary officer.
    AuxiliaryOfficer,
    /// 网格员: grid worker.
    GridWorker,
    /// 部门处置人员: handler in a partner department.
    DepartmentHandler,
    /// 所长: station chief.
    StationChief,
    Analyst,
    /// 系统管理员: organisations, accounts, tokens.
    Administrator,
    /// 安全管理员: roles and account locks.
    SecurityAdministrator,
    /// 安全审计员: reads the audit log.
    Auditor,
}

labels!(Role {
    Operator => ("指挥员", "Command-room operator"),
    CommunityOfficer => ("社区民警", "Community officer"),
    AuxiliaryOfficer => ("辅警", "Auxiliary officer"),
    GridWorker => ("网格员", "Grid worker"),
    DepartmentHandler => ("部门处置人员", "Department handler"),
    StationChief => ("所长", "Station chief"),
    Analyst => ("分析员", "Analyst"),
    Administrator => ("系统管理员", "Administrator"),
    SecurityAdministrator => ("安全管理员", "Security administrator"),
    Auditor => ("安全审计员", "Auditor"),
});

impl Role {
    pub const ALL: [Role; 10] = [
        Role::Operator,
        Role::CommunityOfficer,
        Role::AuxiliaryOfficer,
        Role::GridWorker,
        Role::DepartmentHandler,
        Role::StationChief,
        Role::Analyst,
        Role::Administrator,
        Role::SecurityAdministrator,
        Role::Auditor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Operator => "operator",
            Role::CommunityOfficer => "community_officer",
            Role::AuxiliaryOfficer => "auxiliary_officer",
            Role::GridWorker => "grid_worker",
            Role::DepartmentHandler => "department_handler",
            Role::StationChief => "station_chief",
            Role::Analyst => "analyst",
            Role::Administrator => "administrator",
            Role::SecurityAdministrator => "security_administrator",
            Role::Auditor => "auditor",
        }
    }

    fn is_separated_duty(self) -> bool {
        matches!(
            self,
            Role::Administrator | Role::SecurityAdministrator | Role::Auditor
        )
    }

    pub fn permissions(self) -> &'static [Permission] {
        use Permission::*;
        match self {
            Role::Operator => &[
                ViewOrganisations,
                ViewAddresses,
                UnmaskPersonalData,
                ReportIncidents,
                ViewIncidents,
                DispatchIncidents,
                ViewWarnings,
                HandleWarnings,
                ViewDisputes,
                ManageUnits,
            ],
            Role::CommunityOfficer => &[
                ViewOrganisations,
                ViewAddresses,
                UnmaskPersonalData,
                ReportIncidents,
                ViewIncidents,
                ViewWarnings,
                HandleWarnings,
                ViewDisputes,
                HandleDisputes,
                FileFieldReports,
                DoTasks,
                CrewUnits,
            ],
            Role::AuxiliaryOfficer => &[
                ViewOrganisations,
                ViewAddresses,
                ReportIncidents,
                ViewIncidents,
                ViewDisputes,
                HandleDisputes,
                FileFieldReports,
                DoTasks,
                CrewUnits,
            ],
            Role::GridWorker => &[
                ViewOrganisations,
                ViewAddresses,
                ReportIncidents,
                ViewIncidents,
                ViewWarnings,
                HandleWarnings,
                ViewDisputes,
                HandleDisputes,
                FileFieldReports,
                DoTasks,
                CrewUnits,
            ],
            Role::DepartmentHandler => &[
                ViewOrganisations,
                ViewAddresses,
                ViewIncidents,
                HandleWorkOrders,
            ],
            Role::StationChief => &[
                ViewOrganisations,
                ViewAddresses,
                ViewUsers,
                UnmaskPersonalData,
                ViewIncidents,
                DispatchIncidents,
                ManageRoutingRules,
                ViewWarnings,
                HandleWarnings,
                ViewFigures,
                ViewDisputes,
                HandleDisputes,
                AssignTasks,
                ManageUnits,
            ],
            Role::Analyst => &[
                ViewOrganisations,
                ViewAddresses,
                ViewIncidents,
                ViewWarnings,
                ViewFigures,
                ViewDisputes,
            ],
            Role::Administrator => &[
                ViewOrganisations,
                ViewAddresses,
                ManageOrganisations,
                ManageGrids,
                ViewUsers,
                ManageUsers,
                ManageTokens,
                ManageUnits,
            ],
            Role::SecurityAdministrator => &[
                ViewOrganisations,
                ViewUsers,
                AssignRoles,
                UnlockUsers,
                UnmaskPersonalData,
            ],
            Role::Auditor => &[ViewOrganisations, ReadAuditLog],
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = FieldError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == s)
            .ok_or_else(|| {
                FieldError::new(
                    "roles",
                    Reason::UnknownValue {
                        allowed: Role::ALL.iter().map(|r| r.as_str().to_owned()).collect(),
                    },
                )
            })
    }
}

/// What a caller may do. Routes ask for one; roles and API tokens grant them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    ViewOrganisations,
    ManageOrganisations,
    ViewUsers,
    ManageUsers,
    AssignRoles,
    UnlockUsers,
    ManageTokens,
    ReadAuditLog,
    /// See names, phone and ID numbers in full, with a reason that is audited.
    UnmaskPersonalData,
    /// Resolve addresses; see grids, buildings and plates in the jurisdiction.
    ViewAddresses,
    /// Change who answers for a grid.
    ManageGrids,
    /// Take incidents in (接警): people at the desk or in the field, and
    /// call-taking systems with a token.
    ReportIncidents,
    /// See incidents, their timeline and work orders in the jurisdiction.
    ViewIncidents,
    /// Override triage, route and re-route incidents, confirm returned work
    /// orders and record the caller's feedback (回访): the command room.
    DispatchIncidents,
    /// Accept, reject, work on and return the work orders sent to one's
    /// department (部门处置).
    HandleWorkOrders,
    /// Change which organisation a category goes to where (分派规则).
    ManageRoutingRules,
    /// See warnings (预警) raised in the jurisdiction.
    ViewWarnings,
    /// Acknowledge and close warnings with an action record.
    HandleWarnings,
    /// Read the figures (统计) of an organisation and period.
    ViewFigures,
    /// See dispute cases (矛盾纠纷), their sessions and follow-ups.
    ViewDisputes,
    /// Register disputes, record mediation sessions, agreements, transfers
    /// and follow-up visits.
    HandleDisputes,
    /// File field reports (e治采) from the grid: a dispute, a safety risk, a
    /// visit.
    FileFieldReports,
    /// See one's own daily task list (工作清单) and record what was done.
    DoTasks,
    /// Assign tasks by hand and see every task list of the station.
    AssignTasks,
    /// Register units (警力) and put accounts on their crews for a shift.
    ManageUnits,
    /// Be on a unit's crew: tap its status, send its position, resolve an
    /// incident on scene.
    CrewUnits,
    /// Send positions of many units at once: an AVL/GPS feed with a token.
    ReportPositions,
}

impl Permission {
    pub const ALL: [Permission; 27] = [
        Permission::ViewOrganisations,
        Permission::ManageOrganisations,
        Permission::ViewUsers,
        Permission::ManageUsers,
        Permission::AssignRoles,
        Permission::UnlockUsers,
        Permission::ManageTokens,
        Permission::ReadAuditLog,
        Permission::UnmaskPersonalData,
        Permission::ViewAddresses,
        Permission::ManageGrids,
        Permission::ReportIncidents,
        Permission::ViewIncidents,
        Permission::DispatchIncidents,
        Permission::HandleWorkOrders,
        Permission::ManageRoutingRules,
        Permission::ViewWarnings,
        Permission::HandleWarnings,
        Permission::ViewFigures,
        Permission::ViewDisputes,
        Permission::HandleDisputes,
        Permission::FileFieldReports,
        Permission::DoTasks,
        Permission::AssignTasks,
        Permission::ManageUnits,
        Permission::CrewUnits,
        Permission::ReportPositions,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::ViewOrganisations => "view_organisations",
            Permission::ManageOrganisations => "manage_organisations",
            Permission::ViewUsers => "view_users",
            Permission::ManageUsers => "manage_users",
            Permission::AssignRoles => "assign_roles",
            Permission::UnlockUsers => "unlock_users",
            Permission::ManageTokens => "manage_tokens",
            Permission::ReadAuditLog => "read_audit_log",
            Permission::UnmaskPersonalData => "unmask_personal_data",
            Permission::ViewAddresses => "view_addresses",
            Permission::ManageGrids => "manage_grids",
            Permission::ReportIncidents => "report_incidents",
            Permission::ViewIncidents => "view_incidents",
            Permission::DispatchIncidents => "dispatch_incidents",
            Permission::HandleWorkOrders => "handle_work_orders",
            Permission::ManageRoutingRules => "manage_routing_rules",
            Permission::ViewWarnings => "view_warnings",
            Permission::HandleWarnings => "handle_warnings",
            Permission::ViewFigures => "view_figures",
            Permission::ViewDisputes => "view_disputes",
            Permission::HandleDisputes => "handle_disputes",
            Permission::FileFieldReports => "file_field_reports",
            Permission::DoTasks => "do_tasks",
            Permission::AssignTasks => "assign_tasks",
            Permission::ManageUnits => "manage_units",
            Permission::CrewUnits => "crew_units",
            Permission::ReportPositions => "report_positions",
        }
    }

    /// Permissions a machine client may hold. Administrative powers stay with
    /// people, whose every action is tied to a named account.
    pub fn grantable_to_token(self) -> bool {
        matches!(
            self,
            Permission::ViewOrganisations
                | Permission::ViewAddresses
                | Permission::ReportIncidents
                | Permission::ReportPositions
        )
    }
}

impl FromStr for Permission {
    type Err = FieldError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Permission::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| {
                FieldError::new(
                    "permissions",
                    Reason::UnknownValue {
                        allowed: Permission::ALL
                            .iter()
                            .map(|p| p.as_str().to_owned())
                            .collect(),
                    },
                )
            })
    }
}

/// Parses the permissions asked for a machine client's token and checks that
/// each may be granted to one.
pub fn token_permissions(names: &[String]) -> Result<BTreeSet<Permission>, FieldError> {
    let mut set = BTreeSet::new();
    for name in names {
        let permission: Permission = name.parse()?;
        if !permission.grantable_to_token() {
            return Err(FieldError::new(
                "permissions",
                Reason::Conflict {
                    detail: "not_grantable",
                },
            ));
        }
        set.insert(permission);
    }
    if set.is_empty() {
        return Err(FieldError::new("permissions", Reason::Required));
    }
    Ok(set)
}

/// The roles of one account: at least one, and never two separated duties.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Roles(BTreeSet<Role>);

impl Roles {
    pub fn new(roles: impl IntoIterator<Item = Role>) -> Result<Self, FieldError> {
        let set: BTreeSet<Role> = roles.into_iter().collect();
        if set.is_empty() {
            return Err(FieldError::new("roles", Reason::Required));
        }
        if set.iter().filter(|r| r.is_separated_duty()).count() > 1 {
            return Err(FieldError::new(
                "roles",
                Reason::Conflict {
                    detail: "separated_duties",
                },
            ));
        }
        Ok(Roles(set))
    }

    pub fn parse_list(text: &str) -> Result<Self, FieldError> {
        let roles = text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(Role::from_str)
            .collect::<Result<Vec<_>, _>>()?;
        Roles::new(roles)
    }

    pub fn iter(&self) -> impl Iterator<Item = Role> + '_ {
        self.0.iter().copied()
    }

    pub fn contains(&self, role: Role) -> bool {
        self.0.contains(&role)
    }

    pub fn permissions(&self) -> BTreeSet<Permission> {
        self.iter()
            .flat_map(|r| r.permissions().iter().copied())
            .collect()
    }

    /// The stored form: role names joined by commas.
    pub fn to_list(&self) -> String {
        self.iter().map(Role::as_str).collect::<Vec<_>>().join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separated_duties_cannot_be_combined() {
        assert!(Roles::new([Role::Administrator, Role::Auditor]).is_err());
        assert!(Roles::new([Role::SecurityAdministrator, Role::Administrator]).is_err());
        assert!(Roles::new([Role::StationChief, Role::Administrator]).is_ok());
        assert!(Roles::new([]).is_err());
    }

    #[test]
    fn only_the_auditor_reads_the_audit_log() {
        for role in Role::ALL {
            let reads = role.permissions().contains(&Permission::ReadAuditLog);
            assert_eq!(reads, role == Role::Auditor, "{role}");
        }
    }

    #[test]
    fn role_lists_round_trip() {
        let roles = Roles::parse_list("station_chief, operator").unwrap();
        assert_eq!(Roles::parse_list(&roles.to_list()).unwrap(), roles);
        assert!(Roles::parse_list("chief").is_err());
    }
}
