//! Field reports (e治采) and their photos. The core validates a report
//! (`fengqiao_core::field_report`); this module writes it, its photo and
//! its idempotency key in the caller's transaction, so a report is stored
//! whole or not at all.

use std::str::FromStr;

use fengqiao_core::field_report::{
    FieldReport, FieldReportKind, NewFieldReport, PhotoInfo, PhotoType, ReportPlace,
};
use fengqiao_core::Timestamp;
use sqlx::any::AnyRow;

use crate::{duplicate_as, get, Result, Store, StoreError, Tx};

const COLUMNS: &str = "r.id, r.kind, r.category, r.description, r.address_text, r.building_id,
    r.grid_id, r.community_code, r.station_org_id, r.reporter_user_id, r.reported_at,
    r.dispute_id, r.incident_id, p.media_type, p.size";

const FROM: &str = "field_reports r LEFT JOIN field_report_photos p ON p.field_report_id = r.id";

fn corrupt(what: &str, value: impl std::fmt::Debug) -> StoreError {
    StoreError::Corrupt(format!("{what} {value:?}"))
}

fn report_from_row(row: &AnyRow) -> Result<FieldReport> {
    let kind: String = get(row, "kind")?;
    let media_type: Option<String> = get(row, "media_type")?;
    let size: Option<i64> = get(row, "size")?;
    let photo = match (media_type, size) {
        (Some(media_type), Some(size)) => Some(PhotoInfo {
            photo_type: PhotoType::from_media_type(&media_type)
                .ok_or_else(|| corrupt("media_type", &media_type))?,
            size: usize::try_from(size).map_err(|_| corrupt("size", size))?,
        }),
        _ => None,
    };
    Ok(FieldReport {
        id: get(row, "id")?,
        kind: FieldReportKind::from_str(&kind).map_err(|_| corrupt("kind", &kind))?,
        category: get(row, "category")?,
        description: get(row, "description")?,
        address_text: get(row, "address_text")?,
        place: ReportPlace {
            building_id: get(row, "building_id")?,
            grid_id: get(row, "grid_id")?,
            community_code: get(row, "community_code")?,
            station_org_id: get(row, "station_org_id")?,
        },
        reporter_user_id: get(row, "reporter_user_id")?,
        reported_at: Timestamp(get(row, "reported_at")?),
        photo,
        dispute_id: get(row, "dispute_id")?,
        incident_id: get(row, "incident_id")?,
    })
}

/// A report's idempotency key as sent with it, and the hash of that request.
#[derive(Debug, Clone, Copy)]
pub struct ReportKey<'a> {
    pub key: &'a str,
    pub request_hash: &'a [u8],
}

impl Store {
    pub async fn field_report(&self, id: i64) -> Result<Option<FieldReport>> {
        let sql = format!("SELECT {COLUMNS} FROM {FROM} WHERE r.id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(self.reader())
            .await?;
        row.as_ref().map(report_from_row).transpose()
    }

    /// The report `reporter` filed with `key`, and the hash of the request
    /// that filed it.
    pub async fn field_report_by_key(
        &self,
        reporter_user_id: i64,
        key: &str,
    ) -> Result<Option<(FieldReport, Vec<u8>)>> {
        let sql = format!(
            "SELECT {COLUMNS}, r.request_hash FROM {FROM}
             WHERE r.reporter_user_id = $1 AND r.idempotency_key = $2"
        );
        let row = sqlx::query(&sql)
            .bind(reporter_user_id)
            .bind(key)
            .fetch_optional(self.reader())
            .await?;
        match row {
            Some(row) => Ok(Some((report_from_row(&row)?, get(&row, "request_hash")?))),
            None => Ok(None),
        }
    }

    /// The newest reports (at most `limit`) a viewer may see: those of
    /// stations whose path starts with `scope`, those the viewer filed, and
    /// those of grids the viewer is the community officer of. `kind`
    /// narrows them when given.
    pub async fn field_reports_visible(
        &self,
        scope: &str,
        viewer_user_id: Option<i64>,
        kind: Option<FieldReportKind>,
        limit: i64,
    ) -> Result<Vec<FieldReport>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM {FROM}
             WHERE (r.station_org_id IN (SELECT id FROM organisations WHERE path LIKE $1 || '%')
                    OR r.reporter_user_id = $2
                    OR r.grid_id IN (SELECT id FROM grids WHERE officer_user_id = $2))
               AND ($3 = '' OR r.kind = $3)
             ORDER BY r.reported_at DESC, r.id DESC LIMIT $4"
        );
        let rows = sqlx::query(&sql)
            .bind(scope)
            // No account has id 0: a machine viewer matches nothing here.
            .bind(viewer_user_id.unwrap_or(0))
            .bind(kind.map_or("", FieldReportKind::as_str))
            .bind(limit)
            .fetch_all(self.reader())
            .await?;
        rows.iter().map(report_from_row).collect()
    }

    /// A report's photo: its type and bytes.
    pub async fn field_report_photo(&self, id: i64) -> Result<Option<(PhotoType, Vec<u8>)>> {
        let row: Option<(String, Vec<u8>)> = sqlx::query_as(
            "SELECT media_type, bytes FROM field_report_photos WHERE field_report_id = $1",
        )
        .bind(id)
        .fetch_optional(self.reader())
        .await?;
        row.map(|(media_type, bytes)| {
            PhotoType::from_media_type(&media_type)
                .map(|t| (t, bytes))
                .ok_or_else(|| corrupt("media_type", &media_type))
        })
        .transpose()
    }
}

impl Tx {
    /// Writes a report and its photo; returns the report's id. A key the
    /// reporter already used is `Duplicate("idempotency_key")`, and the
    /// caller rolls back.
    pub async fn insert_field_report(
        &mut self,
        new: &NewFieldReport,
        place: &ReportPlace,
        reporter_user_id: i64,
        key: Option<ReportKey<'_>>,
        at: Timestamp,
    ) -> Result<i64> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO field_reports (kind, category, description, address_text, building_id,
                 grid_id, community_code, station_org_id, reporter_user_id, reported_at,
                 idempotency_key, request_hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
             RETURNING id",
        )
        .bind(new.kind.as_str())
        .bind(new.category)
        .bind(new.description.as_str())
        .bind(new.address_text.as_str())
        .bind(place.building_id)
        .bind(place.grid_id)
        .bind(place.community_code.as_str())
        .bind(place.station_org_id)
        .bind(reporter_user_id)
        .bind(at.millis())
        .bind(key.map(|k| k.key))
        .bind(key.map(|k| k.request_hash.to_vec()))
        .fetch_one(self.conn())
        .await
        .map_err(duplicate_as("idempotency_key"))?;
        if let Some(photo) = &new.photo {
            sqlx::query(
                "INSERT INTO field_report_photos (field_report_id, media_type, size, bytes)
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(id)
            .bind(photo.photo_type().media_type())
            .bind(photo.bytes().len() as i64)
            .bind(photo.bytes().to_vec())
            .execute(self.conn())
            .await?;
        }
        Ok(id)
    }

    /// The report as this transaction sees it, for a change decided on it.
    pub async fn field_report(&mut self, id: i64) -> Result<Option<FieldReport>> {
        let sql = format!("SELECT {COLUMNS} FROM {FROM} WHERE r.id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(self.conn())
            .await?;
        row.as_ref().map(report_from_row).transpose()
    }

    /// Records the dispute case a report was registered as (the core's
    /// `FieldReport::register_as_dispute` decided it may be); `false` when
    /// another registration came first, and nothing is written.
    pub async fn set_field_report_dispute(&mut self, id: i64, dispute_id: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE field_reports SET dispute_id = $1
             WHERE id = $2 AND kind = 'dispute' AND dispute_id IS NULL",
        )
        .bind(dispute_id)
        .bind(id)
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The incident a report was taken in as, read in this transaction and
    /// kept from other writers until it ends: `None` when there is no such
    /// report, `Some(None)` while it is not an incident yet.
    pub async fn lock_field_report_incident(&mut self, id: i64) -> Result<Option<Option<i64>>> {
        let sql = format!(
            "SELECT incident_id FROM field_reports WHERE id = $1{}",
            self.lock_clause()
        );
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(self.conn())
            .await?;
        row.as_ref().map(|r| get(r, "incident_id")).transpose()
    }

    /// Links a report to the incident it was taken in as; `false` when it
    /// already names one, and nothing is written.
    pub async fn set_field_report_incident(&mut self, id: i64, incident_id: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE field_reports SET incident_id = $1 WHERE id = $2 AND incident_id IS NULL",
        )
        .bind(incident_id)
        .bind(id)
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

impl Store {
    /// The field report an incident was taken in from, if any.
    pub async fn field_report_of_incident(&self, incident_id: i64) -> Result<Option<i64>> {
        let row = sqlx::query("SELECT id FROM field_reports WHERE incident_id = $1")
            .bind(incident_id)
            .fetch_optional(self.reader())
            .await?;
        row.as_ref().map(|r| get(r, "id")).transpose()
    }
}
