//! Who is acting: a person, a machine client or the system, with the
//! organisation it acts for and what it may do. Every use case asks it for
//! a permission and whether a record lies within its jurisdiction.

use std::collections::BTreeSet;

use fengqiao_core::audit::{Actor, AuditAction, AuditEvent};
use fengqiao_core::org::{OrgPath, Organisation};
use fengqiao_core::role::Permission;
use fengqiao_core::user::User;

use super::{Error, Result};

#[derive(Debug, Clone)]
pub struct Caller {
    pub actor: Actor,
    pub org: Organisation,
    pub permissions: BTreeSet<Permission>,
    /// Set for people; machines have none.
    pub user: Option<User>,
    pub source: String,
}

impl Caller {
    pub fn require(&self, permission: Permission) -> Result<()> {
        if self.permissions.contains(&permission) {
            Ok(())
        } else {
            Err(Error::Forbidden)
        }
    }

    pub fn scope(&self) -> &OrgPath {
        &self.org.path
    }

    /// Whether a record of the organisation at `path` is within jurisdiction.
    pub fn sees(&self, path: &OrgPath) -> bool {
        self.org.path.contains(path)
    }

    /// An audit event with this caller as actor, organisation and source.
    pub fn audit(&self, action: AuditAction, object_type: &'static str) -> AuditEvent {
        AuditEvent::new(self.actor.clone(), action, object_type)
            .org(Some(self.org.id))
            .source(self.source.clone())
    }

    /// Whether a place with this division code (a community's, a grid's)
    /// lies within the caller organisation's jurisdiction.
    pub fn covers(&self, code: &str) -> bool {
        fengqiao_core::org::DivisionCode::parse(code).is_ok_and(|code| self.org.covers(&code))
    }
}
