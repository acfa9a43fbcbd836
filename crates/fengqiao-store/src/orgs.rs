//! Organisations and their tree.

use std::str::FromStr;

use fengqiao_core::org::{DivisionCode, NewOrganisation, OrgKind, OrgPath, Organisation};
use fengqiao_core::Timestamp;
use sqlx::any::AnyRow;

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
    pub async fn organisation(&self, id: i64) -> Result<Option<Organisation>> {
        let sql = format!("SELECT {COLUMNS} FROM organisations WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(self.reader())
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Every organisation of one kind, wherever it sits in the tree: routing
    /// looks for the one whose division codes cover an address.
    pub async fn organisations_of_kind(&self, kind: OrgKind) -> Result<Vec<Organisation>> {
        let sql = format!("SELECT {COLUMNS} FROM organisations WHERE kind = $1 ORDER BY id");
        let rows = sqlx::query(&sql)
            .bind(kind.as_str())
            .fetch_all(self.reader())
            .await?;
        rows.iter().map(from_row).collect()
    }

    /// The organisation at `scope` and everything below it, in tree order.
    pub async fn organisations_within(&self, scope: &OrgPath) -> Result<Vec<Organisation>> {
        let sql =
            format!("SELECT {COLUMNS} FROM organisations WHERE path LIKE $1 || '%' ORDER BY path");
        let rows = sqlx::query(&sql)
            .bind(scope.as_str())
            .fetch_all(self.reader())
            .await?;
        rows.iter().map(from_row).collect()
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
