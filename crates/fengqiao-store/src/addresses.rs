//! The address registry: grids and who answers for them, buildings with
//! their plate codes, rooms. Imports upsert by natural key, so running one
//! twice changes nothing.

use std::collections::HashMap;

use fengqiao_address::identifier;
use fengqiao_address::registry::{AddressRecord, GridCode};
use fengqiao_core::geo::Wgs84;
use fengqiao_core::Timestamp;
use serde::Serialize;
use sqlx::any::AnyRow;

use crate::{bind_double, get, Result, Store, Tx};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Building {
    pub id: i64,
    pub plate_code: String,
    pub community_code: String,
    pub grid_id: Option<i64>,
    pub compound: Option<String>,
    pub road: Option<String>,
    pub road_number: Option<String>,
    pub building: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grid {
    pub id: i64,
    pub code: String,
    pub community_code: String,
    pub name: Option<String>,
    pub station_org_id: Option<i64>,
    pub officer_user_id: Option<i64>,
    pub grid_worker_ids: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Room {
    pub id: i64,
    pub unit: String,
    pub floor: Option<String>,
    pub room: String,
}

/// How a free-text address is looked up in the registry: the township (or
/// community) code it resolved to, and the place and building it names.
#[derive(Debug, Clone, Default)]
pub struct BuildingQuery {
    pub division_prefix: String,
    pub compound: Option<String>,
    pub road: Option<String>,
    pub road_number: Option<String>,
    pub building: Option<String>,
}

const GRID_COLUMNS: &str = "id, code, community_code, name, station_org_id, officer_user_id";

const BUILDING_COLUMNS: &str =
    "id, plate_code, community_code, grid_id, compound, road, road_number, building, lat, lon";

fn building_from_row(row: &AnyRow) -> Result<Building> {
    Ok(Building {
        id: get(row, "id")?,
        plate_code: get(row, "plate_code")?,
        community_code: get(row, "community_code")?,
        grid_id: get(row, "grid_id")?,
        compound: get(row, "compound")?,
        road: get(row, "road")?,
        road_number: get(row, "road_number")?,
        building: get(row, "building")?,
        lat: get(row, "lat")?,
        lon: get(row, "lon")?,
    })
}

impl Store {
    pub async fn building(&self, id: i64) -> Result<Option<Building>> {
        let sql = format!("SELECT {BUILDING_COLUMNS} FROM buildings WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(self.reader())
            .await?;
        row.as_ref().map(building_from_row).transpose()
    }

    pub async fn building_by_plate(&self, plate_code: &str) -> Result<Option<Building>> {
        let sql = format!("SELECT {BUILDING_COLUMNS} FROM buildings WHERE plate_code = $1");
        let row = sqlx::query(&sql)
            .bind(plate_code)
            .fetch_optional(self.reader())
            .await?;
        row.as_ref().map(building_from_row).transpose()
    }

    /// Buildings of the communities under `division_prefix`, in code order,
    /// at most `limit`, after the id `after` (for printing plate sheets).
    pub async fn buildings_under(
        &self,
        division_prefix: &str,
        after: i64,
        limit: i64,
    ) -> Result<Vec<Building>> {
        let sql = format!(
            "SELECT {BUILDING_COLUMNS} FROM buildings WHERE community_code LIKE $1 || '%' AND id > $2
             ORDER BY id LIMIT $3"
        );
        let rows = sqlx::query(&sql)
            .bind(division_prefix)
            .bind(after)
            .bind(limit)
            .fetch_all(self.reader())
            .await?;
        rows.iter().map(building_from_row).collect()
    }

    /// The buildings that match a resolved address, best first: the same
    /// compound (or road and number) and building within the division. A
    /// compound may be named by one of its aliases.
    pub async fn match_buildings(&self, query: &BuildingQuery) -> Result<Vec<Building>> {
        let found = self.match_buildings_named(query).await?;
        let Some(compound) = query.compound.as_deref().filter(|_| found.is_empty()) else {
            return Ok(found);
        };
        let canonical: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT compound FROM compound_aliases WHERE community_code LIKE $1 || '%' AND alias = $2",
        )
        .bind(query.division_prefix.clone())
        .bind(compound)
        .fetch_all(self.reader())
        .await?;
        let mut found = Vec::new();
        for name in canonical {
            let by_name = BuildingQuery {
                compound: Some(name),
                ..query.clone()
            };
            found.extend(self.match_buildings_named(&by_name).await?);
        }
        Ok(found)
    }

    async fn match_buildings_named(&self, query: &BuildingQuery) -> Result<Vec<Building>> {
        let Some(building) = query.building.as_deref() else {
            return self.match_house_number(query).await;
        };
        let ident = identifier(building);
        let (place_sql, place, number) = match (&query.compound, &query.road) {
            (Some(compound), _) => ("compound = $3", compound.clone(), None),
            (None, Some(road)) => (
                "road = $3 AND road_number = $4",
                road.clone(),
                query.road_number.clone(),
            ),
            (None, None) => return Ok(Vec::new()),
        };
        let sql = format!(
            "SELECT {BUILDING_COLUMNS} FROM buildings
             WHERE community_code LIKE $1 || '%' AND building_ident = $2 AND {place_sql}
             ORDER BY id LIMIT 5"
        );
        let mut statement = sqlx::query(&sql)
            .bind(query.division_prefix.clone())
            .bind(ident)
            .bind(place);
        if let Some(number) = number {
            statement = statement.bind(number);
        }
        let rows = statement.fetch_all(self.reader()).await?;
        rows.iter().map(building_from_row).collect()
    }

    /// A road and house number without a building (高升桥路35号): the
    /// building at that number, when the number names exactly one.
    async fn match_house_number(&self, query: &BuildingQuery) -> Result<Vec<Building>> {
        let (Some(road), Some(number), None) = (&query.road, &query.road_number, &query.compound)
        else {
            return Ok(Vec::new());
        };
        let sql = format!(
            "SELECT {BUILDING_COLUMNS} FROM buildings
             WHERE community_code LIKE $1 || '%' AND road = $2 AND road_number = $3
             ORDER BY id LIMIT 2"
        );
        let rows = sqlx::query(&sql)
            .bind(query.division_prefix.clone())
            .bind(road)
            .bind(number)
            .fetch_all(self.reader())
            .await?;
        if rows.len() != 1 {
            return Ok(Vec::new());
        }
        rows.iter().map(building_from_row).collect()
    }

    pub async fn rooms_of(&self, building_id: i64) -> Result<Vec<Room>> {
        let rows: Vec<(i64, String, Option<String>, String)> = sqlx::query_as(
            "SELECT id, unit, floor, room FROM rooms WHERE building_id = $1 ORDER BY unit, room",
        )
        .bind(building_id)
        .fetch_all(self.reader())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, unit, floor, room)| Room {
                id,
                unit,
                floor,
                room,
            })
            .collect())
    }

    pub async fn grid(&self, id: i64) -> Result<Option<Grid>> {
        let sql = format!("SELECT {GRID_COLUMNS} FROM grids WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(self.reader())
            .await?;
        match row {
            Some(row) => Ok(Some(self.grid_with_workers(&row).await?)),
            None => Ok(None),
        }
    }

    /// Grids whose community lies under any of `division_prefixes`.
    pub async fn grids_under(&self, division_prefixes: &[String]) -> Result<Vec<Grid>> {
        let sql = format!(
            "SELECT {GRID_COLUMNS} FROM grids WHERE community_code LIKE $1 || '%' ORDER BY code"
        );
        let mut grids = Vec::new();
        for prefix in division_prefixes {
            let rows = sqlx::query(&sql)
                .bind(prefix.clone())
                .fetch_all(self.reader())
                .await?;
            for row in &rows {
                grids.push(self.grid_with_workers(row).await?);
            }
        }
        Ok(grids)
    }

    async fn grid_with_workers(&self, row: &AnyRow) -> Result<Grid> {
        let id: i64 = get(row, "id")?;
        let grid_worker_ids = sqlx::query_scalar(
            "SELECT user_id FROM grid_workers WHERE grid_id = $1 ORDER BY user_id",
        )
        .bind(id)
        .fetch_all(self.reader())
        .await?;
        Ok(Grid {
            id,
            code: get(row, "code")?,
            community_code: get(row, "community_code")?,
            name: get(row, "name")?,
            station_org_id: get(row, "station_org_id")?,
            officer_user_id: get(row, "officer_user_id")?,
            grid_worker_ids,
        })
    }
}

impl Tx {
    /// The grid's id, creating it on first sight.
    pub async fn upsert_grid(&mut self, code: &GridCode, now: Timestamp) -> Result<i64> {
        sqlx::query(
            "INSERT INTO grids (code, community_code, created_at, updated_at) VALUES ($1, $2, $3, $3)
             ON CONFLICT (code) DO NOTHING",
        )
        .bind(code.as_str())
        .bind(code.community_code())
        .bind(now.millis())
        .execute(self.conn())
        .await?;
        Ok(sqlx::query_scalar("SELECT id FROM grids WHERE code = $1")
            .bind(code.as_str())
            .fetch_one(self.conn())
            .await?)
    }

    /// Inserts or updates the building of `record` (and its room, if the
    /// record is a room). Returns the building's id.
    pub async fn upsert_address(
        &mut self,
        record: &AddressRecord,
        grid_id: Option<i64>,
        now: Timestamp,
    ) -> Result<i64> {
        let ids = self.upsert_addresses(&[(record, grid_id)], now).await?;
        Ok(ids[0])
    }

    /// Upserts a batch of rows: each building once (its later rows' grid and
    /// location win), then the rooms in multi-row statements. Returns each
    /// row's building id. An import file lists a building's rooms one after
    /// another, so this turns a statement per row into a statement per
    /// building and per few hundred rooms.
    pub async fn upsert_addresses(
        &mut self,
        rows: &[(&AddressRecord, Option<i64>)],
        now: Timestamp,
    ) -> Result<Vec<i64>> {
        let keys: Vec<String> = rows
            .iter()
            .map(|(record, _)| record.building_key())
            .collect();
        // Per building, in order of first appearance: the row to write it
        // from, and the grid and location of the last rows that give them.
        let mut buildings: Vec<(&str, &AddressRecord, Option<i64>, Option<Wgs84>)> = Vec::new();
        let mut position: HashMap<&str, usize> = HashMap::new();
        for ((record, grid_id), key) in rows.iter().zip(&keys) {
            match position.get(key.as_str()) {
                Some(&at) => {
                    let entry = &mut buildings[at];
                    entry.1 = record;
                    entry.2 = grid_id.or(entry.2);
                    entry.3 = record.location.or(entry.3);
                }
                None => {
                    position.insert(key, buildings.len());
                    buildings.push((key, record, *grid_id, record.location));
                }
            }
        }
        let mut building_ids: HashMap<&str, i64> = HashMap::new();
        for (key, record, grid_id, location) in buildings {
            let id = self
                .upsert_building(record, key, grid_id, location, now)
                .await?;
            building_ids.insert(key, id);
        }
        for (record, _) in rows {
            self.upsert_compound_aliases(record).await?;
        }
        let mut rooms: Vec<(i64, String, Option<String>, String)> = Vec::new();
        let mut room_position: HashMap<(i64, String, String), usize> = HashMap::new();
        for ((record, _), key) in rows.iter().zip(&keys) {
            if let Some((unit, room)) = record.room_key() {
                let building_id = building_ids[key.as_str()];
                let row = (
                    building_id,
                    unit.clone(),
                    record.floor.clone(),
                    room.clone(),
                );
                // One statement may not touch a row twice: the last row wins.
                match room_position.get(&(building_id, unit.clone(), room.clone())) {
                    Some(&at) => rooms[at] = row,
                    None => {
                        room_position.insert((building_id, unit, room), rooms.len());
                        rooms.push(row);
                    }
                }
            }
        }
        for chunk in rooms.chunks(200) {
            let values: Vec<String> = (0..chunk.len())
                .map(|i| {
                    format!(
                        "(${}, ${}, ${}, ${})",
                        i * 4 + 1,
                        i * 4 + 2,
                        i * 4 + 3,
                        i * 4 + 4
                    )
                })
                .collect();
            let sql = format!(
                "INSERT INTO rooms (building_id, unit, floor, room) VALUES {}
                 ON CONFLICT (building_id, unit, room) DO UPDATE SET floor = COALESCE(excluded.floor, rooms.floor)",
                values.join(", ")
            );
            let mut statement = sqlx::query(&sql);
            for (building_id, unit, floor, room) in chunk {
                statement = statement
                    .bind(*building_id)
                    .bind(unit.clone())
                    .bind(floor.clone())
                    .bind(room.clone());
            }
            statement.execute(self.conn()).await?;
        }
        Ok(keys.iter().map(|key| building_ids[key.as_str()]).collect())
    }

    async fn upsert_building(
        &mut self,
        record: &AddressRecord,
        key: &str,
        grid_id: Option<i64>,
        location: Option<Wgs84>,
        now: Timestamp,
    ) -> Result<i64> {
        let (lat, lon) = location.map(|p| (p.lat(), p.lon())).unzip();
        let query = sqlx::query(
            "INSERT INTO buildings (natural_key, plate_code, community_code, grid_id, compound, road,
                                    road_number, building, building_ident, lat, lon, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)
             ON CONFLICT (natural_key) DO UPDATE SET
                 grid_id = COALESCE(excluded.grid_id, buildings.grid_id),
                 lat = COALESCE(excluded.lat, buildings.lat),
                 lon = COALESCE(excluded.lon, buildings.lon),
                 updated_at = excluded.updated_at
             RETURNING id",
        )
        .bind(key)
        .bind(fengqiao_address::registry::plate_code(key))
        .bind(record.community_code.as_str())
        .bind(grid_id)
        .bind(record.compound.clone())
        .bind(record.road.clone())
        .bind(record.road_number.clone())
        .bind(record.building.clone())
        .bind(identifier(&record.building));
        // A building without a location binds its nulls as `bind_double`
        // does, or PostgreSQL refuses the next one with coordinates.
        let query = bind_double(bind_double(query, lat), lon);
        let row = query.bind(now.millis()).fetch_one(self.conn()).await?;
        get(&row, "id")
    }

    async fn upsert_compound_aliases(&mut self, record: &AddressRecord) -> Result<()> {
        let Some(compound) = &record.compound else {
            return Ok(());
        };
        for alias in &record.compound_aliases {
            sqlx::query(
                "INSERT INTO compound_aliases (community_code, alias, compound) VALUES ($1, $2, $3)
                 ON CONFLICT (community_code, alias) DO UPDATE SET compound = excluded.compound",
            )
            .bind(record.community_code.as_str())
            .bind(alias.clone())
            .bind(compound.clone())
            .execute(self.conn())
            .await?;
        }
        Ok(())
    }

    /// Who answers for a grid: its station, its community officer and its
    /// grid workers, replaced in one change.
    pub async fn set_grid_responsibility(
        &mut self,
        grid_id: i64,
        station_org_id: Option<i64>,
        officer_user_id: Option<i64>,
        grid_worker_ids: &[i64],
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE grids SET station_org_id = $1, officer_user_id = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(station_org_id)
        .bind(officer_user_id)
        .bind(now.millis())
        .bind(grid_id)
        .execute(self.conn())
        .await?;
        sqlx::query("DELETE FROM grid_workers WHERE grid_id = $1")
            .bind(grid_id)
            .execute(self.conn())
            .await?;
        for user_id in grid_worker_ids {
            sqlx::query("INSERT INTO grid_workers (grid_id, user_id) VALUES ($1, $2)")
                .bind(grid_id)
                .bind(*user_id)
                .execute(self.conn())
                .await?;
        }
        Ok(())
    }
}

impl Store {
    /// Every loaded village and community as (code, township code, name).
    pub async fn communities(&self) -> Result<Vec<(String, String, String)>> {
        Ok(
            sqlx::query_as("SELECT code, township_code, name FROM communities ORDER BY code")
                .fetch_all(self.reader())
                .await?,
        )
    }
}

impl Tx {
    pub async fn upsert_community(
        &mut self,
        code: &str,
        township_code: &str,
        name: &str,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO communities (code, township_code, name) VALUES ($1, $2, $3)
             ON CONFLICT (code) DO UPDATE SET township_code = excluded.township_code, name = excluded.name",
        )
        .bind(code)
        .bind(township_code)
        .bind(name)
        .execute(self.conn())
        .await?;
        Ok(())
    }
}
