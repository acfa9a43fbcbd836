//! 道路网: the jurisdiction's roads (`fengqiao_core::road`), replaced as a
//! whole by an import and read whole to build the network.

use fengqiao_core::geo::Wgs84;
use fengqiao_core::road::RoadLine;

use crate::rows::corrupt;
use crate::{get, Result, Store, Tx};

fn points_text(line: &RoadLine) -> String {
    let pairs: Vec<[f64; 2]> = line.points.iter().map(|p| [p.lat(), p.lon()]).collect();
    serde_json::to_string(&pairs).expect("numbers serialise")
}

fn line_from(name: String, points: &str) -> Result<RoadLine> {
    let pairs: Vec<[f64; 2]> =
        serde_json::from_str(points).map_err(|_| corrupt("points", points))?;
    let points = pairs
        .into_iter()
        .map(|[lat, lon]| Wgs84::new(lat, lon))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|_| corrupt("points", points))?;
    RoadLine::new(&name, points).map_err(|_| corrupt("road", &name))
}

impl Store {
    /// Every road, in the order imported.
    pub async fn roads(&self) -> Result<Vec<RoadLine>> {
        let rows = sqlx::query("SELECT name, points FROM roads ORDER BY id")
            .fetch_all(self.reader())
            .await?;
        rows.iter()
            .map(|row| line_from(get(row, "name")?, &get::<String>(row, "points")?))
            .collect()
    }

    /// What changes whenever the roads do: their number and the largest
    /// id (ids are never reused).
    pub async fn roads_revision(&self) -> Result<(i64, i64)> {
        let (count, last): (i64, Option<i64>) =
            sqlx::query_as("SELECT COUNT(*), MAX(id) FROM roads")
                .fetch_one(self.reader())
                .await?;
        Ok((count, last.unwrap_or(0)))
    }
}

impl Tx {
    /// Replaces every road with `lines`.
    pub async fn replace_roads(&mut self, lines: &[RoadLine]) -> Result<()> {
        sqlx::query("DELETE FROM roads")
            .execute(self.conn())
            .await?;
        for line in lines {
            sqlx::query("INSERT INTO roads (name, points) VALUES ($1, $2)")
                .bind(&line.name)
                .bind(points_text(line))
                .execute(self.conn())
                .await?;
        }
        Ok(())
    }
}
