//! Organisations and their tree.

use std::str::FromStr;
use std::sync::Arc;

use fengqiao_core::org::{DivisionCode, NewOrganisation, OrgKind, OrgPath, Organisation};
use fengqiao_core::Timestamp;
use sqlx::any::AnyRow;

use crate::directory::Snapshot;
use crate::{get, Result, Store, StoreError, Tx};

const COLUMNS: &str = "id, parent_id, path, kind, department_type, name, division_codes";

fn from_row(row: &AnyRow) -> Result<Organisation> {
    let kind: String = get(row, "kind")?;
    let codes: String = get(row, "division_codes")?;
    Ok(Organisation {
        id: get(row, "id")?,
        parent_id: get(row, "parent_id")?,
        path: OrgPath::from_stored(get(row, "path")?),
        kind: OrgKind::from_str(&kind).map_err(|_| StoreError::Corrupt(format!("kind {kind}")))?,
        department_type: get(row, "department_type")?,
        name: get(row, "name")?,
        division_codes: codes
            .split(',')
            .filter(|c| !c.is_empty())
            .map(|c| DivisionCode::parse(c).map_err(|_| StoreError::Corrupt(format!("code {c}"))))
            .collect::<Result<_>>()?,
    })
}

fn codes_text(codes: &[DivisionCode]) -> String {
    codes
        .iter()
        .map(DivisionCode::as_str)
        .collect::<Vec<_>>()
        .join(",")
}

impl Store {
    /// The organisations and routing rules as this process last read them,
    /// read again when a change of this process or time made them stale
    /// (`directory.rs`).
    pub(crate) async fn directory(&self) -> Result<Arc<Snapshot>> {
        if let Some(snapshot) = self.directory.fresh() {
            return Ok(snapshot);
        }
        // One reader at a time: the others wait for its snapshot instead
        // of all reading the same rows.
        let _loading = self.directory.loading().await;
        if let Some(snapshot) = self.directory.fresh() {
            return Ok(snapshot);
        }
        let generation = self.directory.generation();
        let sql = format!("SELECT {COLUMNS} FROM organisations ORDER BY id");
        let rows = sqlx::query(&sql).fetch_all(self.reader()).await?;
        let organisations = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
        let rules = self.routing_rules().await?;
        let snapshot = Arc::new(Snapshot::new(generation, organisations, rules));
        self.directory.install(snapshot.clone());
        Ok(snapshot)
    }

    pub async fn organisation(&self, id: i64) -> Result<Option<Organisation>> {
        Ok(self.directory().await?.organisation(id).cloned())
    }

    /// Every organisation of one kind, wherever it sits in the tree, by id:
    /// routing looks for the one whose division codes cover an address.
    pub async fn organisations_of_kind(&self, kind: OrgKind) -> Result<Vec<Organisation>> {
        Ok(self.directory().await?.of_kind(kind).cloned().collect())
    }

    /// The organisation at `scope` and everything below it, in tree order.
    pub async fn organisations_within(&self, scope: &OrgPath) -> Result<Vec<Organisation>> {
        Ok(self
            .directory()
            .await?
            .within(scope)
            .into_iter()
            .cloned()
            .collect())
    }
}

impl Tx {
    /// Inserts the organisation under its parent (which must exist) and
    /// returns it with its id and path.
    pub async fn insert_organisation(
        &mut self,
        new: &NewOrganisation,
        now: Timestamp,
    ) -> Result<Organisation> {
        self.directory_changed = true;
        let parent_path = match new.parent_id {
            Some(parent) => {
                let path: Option<String> =
                    sqlx::query_scalar("SELECT path FROM organisations WHERE id = $1")
                        .bind(parent)
                        .fetch_optional(self.conn())
                        .await?;
                Some(path.ok_or(StoreError::Corrupt(format!("parent {parent} missing")))?)
            }
            None => None,
        };
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO organisations
                 (parent_id, kind, department_type, name, division_codes, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
        )
        .bind(new.parent_id)
        .bind(new.kind.as_str())
        .bind(new.department_type.clone())
        .bind(new.name.clone())
        .bind(codes_text(&new.division_codes))
        .bind(now.millis())
        .fetch_one(self.conn())
        .await?;
        let path = match parent_path {
            Some(parent) => OrgPath::from_stored(parent).child(id),
            None => OrgPath::root(id),
        };
        sqlx::query("UPDATE organisations SET path = $1 WHERE id = $2")
            .bind(path.as_str())
            .bind(id)
            .execute(self.conn())
            .await?;
        Ok(Organisation {
            id,
            parent_id: new.parent_id,
            path,
            kind: new.kind,
            department_type: new.department_type.clone(),
            name: new.name.clone(),
            division_codes: new.division_codes.clone(),
        })
    }

    pub async fn update_organisation(
        &mut self,
        id: i64,
        name: &str,
        division_codes: &[DivisionCode],
        now: Timestamp,
    ) -> Result<()> {
        self.directory_changed = true;
        sqlx::query(
            "UPDATE organisations SET name = $1, division_codes = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(name)
        .bind(codes_text(division_codes))
        .bind(now.millis())
        .bind(id)
        .execute(self.conn())
        .await?;
        Ok(())
    }
}
