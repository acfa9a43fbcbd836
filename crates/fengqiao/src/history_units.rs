//! The history's units (警力): each station's patrol cars, e-bike and foot
//! patrols, the joint-duty station's team and each street's patrol force,
//! registered by the station chief (the street force by the county's
//! administrator), crewed by the station's auxiliary officer, and placed by
//! their vehicles' GPS feed (an API token with `report_positions`). Every
//! police incident the command room holds gets the nearest unit as the
//! recommendation ranks it — through the war zone when the station cannot
//! arrive in time — and the crew taps its way there: most arrive within
//! five minutes, some are held up, most settle it on scene. Some non-police
//! incidents get the street force first, which hands them on.

use anyhow::Context;
use axum::http::{Method, StatusCode};
use fengqiao_core::role::Permission;
use fengqiao_core::secret::{self, API_TOKEN_PREFIX};
use fengqiao_core::{Clock, Timestamp};
use rand::Rng;
use serde_json::{json, Value};

use super::{refusal, Player, Step};

/// The pseudo-account the GPS feed's token is kept under.
const AVL: &str = "avl";
/// The war zone's commander.
const COMMANDER: &str = "zhanqu.wh";

impl Player<'_> {
    /// Registers and crews the units, and places them, as of the clock.
    pub(super) async fn muster(&mut self) -> anyhow::Result<()> {
        let now = self.clock.now();
        let county = self.orgs["county"];
        let token = secret::generate(API_TOKEN_PREFIX);
        let mut tx = self.state.store.begin().await?;
        let permissions = [Permission::ReportPositions].into();
        tx.insert_api_token("车载定位", county, &permissions, &token.hash, "system", now)
            .await?;
        tx.commit().await?;
        self.sessions.insert(AVL.into(), token.text.clone());

        let mut positions = Vec::new();
        for (s, street) in self.town.streets.iter().enumerate() {
            let key = street.key;
            let chief = format!("suozhang.{key}");
            let station = self.orgs[key];
            let short = street.short_name;
            let mut units = vec![
                (chief.clone(), station, format!("{short}巡1"), "patrol_car"),
                (chief.clone(), station, format!("{short}巡2"), "patrol_car"),
                (chief.clone(), station, format!("{short}电巡1"), "scooter"),
                (
                    chief.clone(),
                    station,
                    format!("{short}步巡1"),
                    "foot_patrol",
                ),
            ];
            if let Some(&joint) = self.orgs.get(&format!("{key}_joint")) {
                units.push((
                    chief.clone(),
                    joint,
                    format!("{short}联勤1"),
                    "joint_duty_team",
                ));
            }
            if let Some(&centre) = self.orgs.get(&format!("{key}_centre")) {
                for n in 1..=2 {
                    units.push((
                        "admin.wh".into(),
                        centre,
                        format!("{short}综治{n}"),
                        "street_patrol",
                    ));
                }
            }
            for (n, (by, org_id, call_sign, kind)) in units.into_iter().enumerate() {
                let body = json!({"org_id": org_id, "call_sign": call_sign, "kind": kind});
                let Some(unit) = self
                    .attempt(&by, "/api/v1/units", body, "register unit")
                    .await?
                else {
                    continue;
                };
                let id = unit["id"].as_i64().context("a unit's id")?;
                if n == 0 {
                    let crew = self.seeded_user(&format!("fujing.{key}"));
                    let path = format!("/api/v1/units/{id}/crew");
                    let (status, view) = self
                        .request(
                            &chief,
                            Method::PUT,
                            &path,
                            Some(json!({ "user_ids": crew })),
                        )
                        .await?;
                    if status != StatusCode::OK {
                        self.refuse(&refusal("crew", &view), status);
                    }
                }
                let (lat, lon) = self.patrol_point(s);
                positions.push(json!({"unit_id": id, "lat": lat, "lon": lon}));
            }
        }
        self.report_positions(positions).await
    }

    fn seeded_user(&self, username: &str) -> Vec<i64> {
        self.usernames
            .iter()
            .filter(|(_, name)| name.as_str() == username)
            .map(|(id, _)| *id)
            .collect()
    }

    /// A compound of the street, where a unit patrols next.
    fn patrol_point(&mut self, street: usize) -> (f64, f64) {
        let town = self.town;
        let compounds: Vec<_> = town
            .compounds
            .iter()
            .filter(|c| town.street_of_grid(c.grid) == street)
            .collect();
        let pick = compounds[self.rng.gen_range(0..compounds.len())];
        (pick.lat, pick.lon)
    }

    async fn report_positions(&mut self, positions: Vec<Value>) -> anyhow::Result<()> {
        if positions.is_empty() {
            return Ok(());
        }
        let body = json!({ "positions": positions });
        self.attempt(AVL, "/api/v1/units/positions", body, "positions")
            .await?;
        Ok(())
    }

    /// 派警: the command room sends the unit the recommendation ranks
    /// first; another station's through the war zone.
    pub(super) async fn send_unit(
        &mut self,
        at: Timestamp,
        incident: i64,
        call: usize,
    ) -> anyhow::Result<()> {
        let operator = self.operator_of(call);
        let path = format!("/api/v1/incidents/{incident}/recommendations");
        let (status, found) = self.request(&operator, Method::GET, &path, None).await?;
        if status != StatusCode::OK {
            // No coordinates to estimate from: the desk sends someone by
            // radio, which Fengqiao does not see.
            if status != StatusCode::CONFLICT {
                self.refuse("recommendations", status);
            }
            return Ok(());
        }
        let Some(first) = found["units"].as_array().and_then(|u| u.first()).cloned() else {
            return Ok(());
        };
        let unit = first["unit"]["id"].as_i64().context("a unit id")?;
        let minutes = first["minutes"].as_f64().unwrap_or(5.0);
        if first["reinforcement"] == true {
            let body =
                json!({"unit_ids": [unit], "reason": "本所警力5分钟内无法到达，申请战区增援"});
            let path = format!("/api/v1/incidents/{incident}/reinforcements");
            if let Some(request) = self
                .attempt(&operator, &path, body, "reinforcement")
                .await?
            {
                let id = request["id"].as_i64().context("a request id")?;
                self.schedule(
                    at.plus_minutes(1),
                    Step::Reinforce {
                        request: id,
                        unit,
                        incident,
                        minutes: minutes.round() as i64,
                    },
                );
            }
            return Ok(());
        }
        let path = format!("/api/v1/incidents/{incident}/units");
        if self
            .attempt(
                &operator,
                &path,
                json!({ "unit_ids": [unit] }),
                "dispatch units",
            )
            .await?
            .is_some()
        {
            self.respond(at, unit, incident, minutes);
        }
        Ok(())
    }

    /// 战区 accepts; the unit then goes as any other.
    pub(super) async fn reinforce(
        &mut self,
        at: Timestamp,
        request: i64,
        unit: i64,
        incident: i64,
        minutes: i64,
    ) -> anyhow::Result<()> {
        let path = format!("/api/v1/reinforcements/{request}/decision");
        let body = json!({"accept": true, "note": "同意增援"});
        if self
            .attempt(COMMANDER, &path, body, "decide reinforcement")
            .await?
            .is_some()
        {
            self.respond(at, unit, incident, minutes as f64);
        }
        Ok(())
    }

    /// The crew's taps: off at once, on scene after the estimate give or
    /// take (and now and then held up in traffic), then done.
    fn respond(&mut self, at: Timestamp, unit: i64, incident: i64, minutes: f64) {
        let rng = &mut self.rng;
        let mut travel = minutes * rng.gen_range(0.6..1.2);
        if rng.gen_bool(0.06) {
            travel += rng.gen_range(3.0..9.0);
        }
        let travel = (travel.ceil() as i64).max(1);
        let work = rng.gen_range(6..30);
        self.schedule(
            at,
            Step::Tap {
                unit,
                incident,
                status: "en_route",
            },
        );
        self.schedule(
            at.plus_minutes(travel),
            Step::Tap {
                unit,
                incident,
                status: "on_scene",
            },
        );
        self.schedule(
            at.plus_minutes(travel + work),
            Step::Tap {
                unit,
                incident,
                status: "done",
            },
        );
    }

    /// One tap by the crew, or by the command room for a crew without an
    /// account on it. `done` resolves police work on scene most of the
    /// time and otherwise hands it on by clearing.
    pub(super) async fn tap(
        &mut self,
        unit: i64,
        incident: i64,
        status: &'static str,
    ) -> anyhow::Result<()> {
        let Some(found) = self.state.store.unit(unit).await? else {
            return Ok(());
        };
        if found.incident_id != Some(incident) {
            return Ok(());
        }
        let crew = self.state.store.crew(unit).await?;
        let operator = match self.state.store.incident(incident).await? {
            Some(record) => self
                .station_operator(record.incident.station_org_id)
                .unwrap_or_default(),
            None => return Ok(()),
        };
        let who = crew
            .first()
            .and_then(|id| self.usernames.get(id).cloned())
            .unwrap_or(operator);
        if status == "on_scene" {
            // The vehicle's GPS puts it at the scene.
            if let Some(point) = self
                .state
                .store
                .incident(incident)
                .await?
                .and_then(|r| r.incident.coordinates)
            {
                let at = self.clock.now();
                let body = vec![
                    json!({"unit_id": unit, "lat": point.lat(), "lon": point.lon(),
                    "at": super::rfc3339(at)}),
                ];
                self.report_positions(body).await?;
            }
        }
        if status != "done" {
            let path = format!("/api/v1/units/{unit}/status");
            self.attempt(&who, &path, json!({ "status": status }), "unit status")
                .await?;
            return Ok(());
        }
        let police = found.kind.force() == fengqiao_core::unit::Force::Police;
        if police && self.rng.gen_bool(0.7) {
            let path = format!("/api/v1/units/{unit}/resolve");
            let result = json!({"result": "民警到场处置，当事双方已劝离，现场化解"});
            if self
                .attempt(&who, &path, result, "resolve on scene")
                .await?
                .is_some()
            {
                self.played.resolved_on_scene += 1;
            }
        } else {
            let path = format!("/api/v1/units/{unit}/status");
            self.attempt(&who, &path, json!({"status": "available"}), "clear")
                .await?;
        }
        Ok(())
    }

    fn station_operator(&self, station: i64) -> Option<String> {
        self.orgs
            .iter()
            .find(|(_, id)| **id == station)
            .map(|(key, _)| format!("zhihui.{key}"))
    }
}
