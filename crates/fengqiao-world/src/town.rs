//! The jurisdiction: 成都市武侯区 with its real streets (codes and names
//! from the division table), and under them generated communities, grids,
//! roads, compounds and buildings laid out like a town; the organisations
//! that work there and the people who use Fengqiao.
//!
//! Streets are cells of a map; each street's roads run east to west, the
//! compounds line both sides of them with rising house numbers, communities
//! are strips of the street from west to east and each community's grids
//! are its northern and southern halves — so grids are contiguous areas and
//! a map of the points looks like a town.

use fengqiao_address::registry::RawAddressRecord;
use fengqiao_core::geo::Wgs84;
use fengqiao_core::org::OrgKind;
use fengqiao_core::road::RoadLine;
use fengqiao_core::role::Role;
use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::names::{self, UniqueNames};

/// How large a town to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TownSpec {
    pub seed: u64,
    /// Police stations, one per street: 1 to 5.
    pub stations: usize,
    /// 1 is the demo (about 60,000 rooms); N makes N times the compounds.
    pub scale: u32,
}

impl Default for TownSpec {
    fn default() -> Self {
        TownSpec {
            seed: 2026,
            stations: 4,
            scale: 1,
        }
    }
}

pub const PROVINCE: (&str, &str) = ("510000", "四川省");
pub const CITY: (&str, &str) = ("510100", "成都市");
pub const DISTRICT: (&str, &str) = ("510107", "武侯区");

/// Real streets of 武侯区 that get a station, in order: (key, code, the
/// name people use). The first three keep the keys the earlier demo had.
const STREETS: &[(&str, &str, &str)] = &[
    ("jxj", "510107001", "浆洗街"),
    ("wjl", "510107004", "望江路"),
    ("yl", "510107005", "玉林"),
    ("hpl", "510107002", "红牌楼"),
    ("fcj", "510107019", "芳草街"),
];

/// Names the earlier demo, the README and the browser tests use, given to
/// the first community of a street and to compounds of its first grids:
/// (street key, community, compounds).
const LANDMARKS: &[(&str, &str, &[&str])] = &[
    (
        "jxj",
        "锦里社区",
        &["锦里小区", "蜀汉花园", "洗面桥苑", "红墙巷新村"],
    ),
    ("wjl", "望江社区", &["望江家园", "锦江苑"]),
    ("yl", "玉林社区", &["玉林小区", "芳草新村"]),
];

const COMMUNITIES_PER_STREET: usize = 4;
const GRIDS_PER_COMMUNITY: usize = 2;
const ROADS_PER_STREET: usize = 4;
/// Compounds on each side of a road, per community, at scale 1.
const COMPOUNDS_PER_SIDE: usize = 1;
/// Addresses on a road that are not in a compound (沿街商铺), per road.
const SHOPS_PER_ROAD: usize = 12;

/// The south-west corner of the map and a street's cell, in degrees.
const ORIGIN: (f64, f64) = (30.600, 104.000);
const CELL: (f64, f64) = (0.020, 0.024);

/// An organisation to create, parents before children.
#[derive(Debug, Clone, PartialEq)]
pub struct OrgPlan {
    pub key: String,
    pub parent: Option<String>,
    pub kind: OrgKind,
    /// The routing type a department answers for (`labour_inspection`…).
    pub department_type: Option<&'static str>,
    pub name: String,
    pub division_codes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Street {
    pub key: &'static str,
    pub code: &'static str,
    /// 浆洗街: as people say it.
    pub short_name: &'static str,
    /// South-west corner of its cell.
    pub origin: (f64, f64),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Community {
    pub code: String,
    pub name: String,
    pub street: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    pub code: String,
    pub community: usize,
    /// Index into `people`.
    pub officer: usize,
    pub workers: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Road {
    pub name: String,
    pub street: usize,
    pub lat: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Compound {
    pub name: String,
    pub grid: usize,
    pub road: usize,
    pub number: u32,
    pub buildings: u32,
    pub units: u32,
    pub floors: u32,
    pub rooms_per_floor: u32,
    /// The compound's south-west corner.
    pub lat: f64,
    pub lon: f64,
}

/// A shop or an office at a house number on a road, outside any compound.
#[derive(Debug, Clone, PartialEq)]
pub struct Frontage {
    pub road: usize,
    pub number: u32,
    pub grid: usize,
    pub lat: f64,
    pub lon: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Person {
    pub username: String,
    pub full_name: String,
    pub phone: String,
    pub role: Role,
    /// The key of the organisation the account belongs to.
    pub org: String,
    /// One account per role is printed at start-up; all are in the file.
    pub featured: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Town {
    pub spec: TownSpec,
    pub orgs: Vec<OrgPlan>,
    pub streets: Vec<Street>,
    pub communities: Vec<Community>,
    pub grids: Vec<Grid>,
    pub roads: Vec<Road>,
    pub compounds: Vec<Compound>,
    pub frontages: Vec<Frontage>,
    pub people: Vec<Person>,
}

/// Partner departments of the district: (key, routing type, name).
const DEPARTMENTS: &[(&str, &str, &str)] = &[
    ("urban", "urban_management", "武侯区综合行政执法局"),
    ("market", "market_regulation", "武侯区市场监督管理局"),
    ("labour", "labour_inspection", "武侯区劳动保障监察大队"),
    ("housing", "housing_property", "武侯区住房建设和交通运输局"),
    (
        "water",
        "utilities_water",
        "成都市自来水有限责任公司武侯营业所",
    ),
    ("power", "utilities_power", "国网成都供电公司武侯供电中心"),
    ("gas", "utilities_gas", "成都燃气武侯服务所"),
    ("municipal", "municipal_facilities", "武侯区市政设施管理所"),
    ("environment", "environment", "成都市武侯生态环境局"),
    ("animal", "animal_control", "武侯区农业农村局动物防疫站"),
    ("civil", "civil_affairs", "武侯区民政局"),
    ("justice", "justice_mediation", "武侯区司法局"),
    ("emergency", "emergency", "武侯区应急管理局"),
];

/// The people the earlier demo printed, kept so that what a newcomer reads
/// in the README still signs in: (username, role, org key, name, phone).
const FEATURED: &[(&str, Role, &str, &str, &str)] = &[
    (
        "zhihui.jxj",
        Role::Operator,
        "jxj_room",
        "陈晓东",
        "13880012301",
    ),
    (
        "minjing.jxj",
        Role::CommunityOfficer,
        "jxj",
        "刘建华",
        "13880012302",
    ),
    (
        "fujing.jxj",
        Role::AuxiliaryOfficer,
        "jxj",
        "王磊",
        "13880012303",
    ),
    (
        "wangge.jxj",
        Role::GridWorker,
        "jxj_centre",
        "赵秀英",
        "13880012304",
    ),
    (
        "chuzhi.labour",
        Role::DepartmentHandler,
        "labour",
        "孙志强",
        "13880012305",
    ),
    (
        "chuzhi.urban",
        Role::DepartmentHandler,
        "urban",
        "周敏",
        "13880012306",
    ),
    (
        "suozhang.jxj",
        Role::StationChief,
        "jxj",
        "李国平",
        "13880012307",
    ),
    ("fenxi.wh", Role::Analyst, "county", "吴静", "13880012308"),
    (
        "admin.wh",
        Role::Administrator,
        "county",
        "郑凯",
        "13880012309",
    ),
    (
        "anquan.wh",
        Role::SecurityAdministrator,
        "county",
        "冯丽",
        "13880012310",
    ),
    ("shenji.wh", Role::Auditor, "county", "何军", "13880012311"),
];

impl Town {
    /// The same spec gives the same town, field for field.
    pub fn generate(spec: TownSpec) -> Town {
        let spec = TownSpec {
            stations: spec.stations.clamp(1, STREETS.len()),
            scale: spec.scale.max(1),
            ..spec
        };
        let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
        let mut names = UniqueNames::default();
        for (_, community, compounds) in LANDMARKS {
            names.reserve(community);
            compounds.iter().for_each(|c| names.reserve(c));
        }
        let streets: Vec<Street> = STREETS[..spec.stations]
            .iter()
            .enumerate()
            .map(|(i, &(key, code, short_name))| {
                names.reserve(short_name);
                Street {
                    key,
                    code,
                    short_name,
                    origin: cell_origin(i, spec.scale),
                }
            })
            .collect();
        let orgs = organisations(&streets);
        let mut town = Town {
            spec,
            orgs,
            streets,
            communities: Vec::new(),
            grids: Vec::new(),
            roads: Vec::new(),
            compounds: Vec::new(),
            frontages: Vec::new(),
            people: Vec::new(),
        };
        town.add_featured_people();
        for street in 0..town.streets.len() {
            town.lay_out_street(street, &mut rng, &mut names);
        }
        town.add_department_handlers(&mut rng);
        town
    }

    fn person(&self, username: &str) -> Option<usize> {
        self.people.iter().position(|p| p.username == username)
    }

    /// Adds an account unless the featured list already has this username.
    fn add_person(
        &mut self,
        rng: &mut ChaCha8Rng,
        username: String,
        role: Role,
        org: &str,
    ) -> usize {
        if let Some(existing) = self.person(&username) {
            return existing;
        }
        self.people.push(Person {
            username,
            full_name: names::person(rng),
            phone: names::phone(rng),
            role,
            org: org.to_owned(),
            featured: false,
        });
        self.people.len() - 1
    }

    fn add_featured_people(&mut self) {
        // The war zone's commander (战区指挥长), who decides reinforcement.
        let commander = (
            "zhanqu.wh",
            Role::StationChief,
            "zone",
            "高志远",
            "13880012312",
        );
        for &(username, role, org, name, phone) in FEATURED.iter().chain([&commander]) {
            self.people.push(Person {
                username: username.to_owned(),
                full_name: name.to_owned(),
                phone: phone.to_owned(),
                role,
                org: org.to_owned(),
                featured: username != commander.0,
            });
        }
    }

    fn add_department_handlers(&mut self, rng: &mut ChaCha8Rng) {
        for &(key, ..) in DEPARTMENTS {
            self.add_person(rng, format!("chuzhi.{key}"), Role::DepartmentHandler, key);
        }
    }

    fn lay_out_street(&mut self, street: usize, rng: &mut ChaCha8Rng, names: &mut UniqueNames) {
        let scale = self.spec.scale as usize;
        let key = self.streets[street].key;
        let (south, west) = self.streets[street].origin;
        let (height, width) = cell_size(self.spec.scale);
        let landmark = LANDMARKS.iter().find(|(k, ..)| *k == key);
        let mut landmark_compounds = landmark.map_or(&[][..], |l| l.2).iter();

        // The station's people: chief, operator, auxiliary officer.
        self.add_person(rng, format!("suozhang.{key}"), Role::StationChief, key);
        self.add_person(
            rng,
            format!("zhihui.{key}"),
            Role::Operator,
            &format!("{key}_room"),
        );
        self.add_person(rng, format!("fujing.{key}"), Role::AuxiliaryOfficer, key);
        // The governance centre handles what no department owns.
        self.add_person(
            rng,
            format!("chuzhi.{key}_centre"),
            Role::DepartmentHandler,
            &format!("{key}_centre"),
        );

        let first_community = self.communities.len();
        for c in 0..COMMUNITIES_PER_STREET {
            let code = format!("{}{:03}", self.streets[street].code, c + 1);
            let community = self.communities.len();
            let name = match landmark {
                Some((_, community, _)) if c == 0 => (*community).to_owned(),
                _ => names.community(rng),
            };
            self.communities.push(Community {
                code: code.clone(),
                name,
                street,
            });
            // One community officer (社区民警) answers for a community.
            let officer = self.add_person(
                rng,
                numbered("minjing", c, key),
                Role::CommunityOfficer,
                key,
            );
            for g in 0..GRIDS_PER_COMMUNITY {
                let worker = self.add_person(
                    rng,
                    numbered("wangge", c * GRIDS_PER_COMMUNITY + g, key),
                    Role::GridWorker,
                    &format!("{key}_centre"),
                );
                self.grids.push(Grid {
                    code: format!("{code}{:03}", g + 1),
                    community,
                    officer,
                    workers: vec![worker],
                });
            }
        }

        let roads = ROADS_PER_STREET * (scale as f64).sqrt().ceil() as usize;
        for r in 0..roads {
            let lat = south + height * (r as f64 + 0.5) / roads as f64;
            self.roads.push(Road {
                name: names.road(rng),
                street,
                lat,
            });
            let road = self.roads.len() - 1;
            // Upper half of the roads in the communities' first grid, lower
            // half in the second: each grid is a contiguous block.
            let grid_row = (r * GRIDS_PER_COMMUNITY) / roads;
            let per_community = COMPOUNDS_PER_SIDE * scale.div_ceil(roads / ROADS_PER_STREET);
            let along = COMMUNITIES_PER_STREET * per_community;
            let mut number = 1;
            for slot in 0..along {
                let community = first_community + slot / per_community;
                let grid = (community * GRIDS_PER_COMMUNITY) + grid_row;
                let lon = west + width * (slot as f64 + 0.1) / along as f64;
                for side in [1.0, -1.0] {
                    // Odd numbers on the north side, even on the south.
                    let north = side > 0.0;
                    let this_number = if north { number } else { number + 1 };
                    let high_rise = rng.gen_bool(0.3);
                    let mut compound = Compound {
                        name: names.compound(rng),
                        grid,
                        road,
                        number: this_number,
                        buildings: rng.gen_range(4..=12),
                        units: rng.gen_range(1..=3),
                        floors: if high_rise {
                            rng.gen_range(18..=33)
                        } else {
                            rng.gen_range(5..=9)
                        },
                        rooms_per_floor: rng.gen_range(2..=4),
                        lat: lat + side * 0.0008 - if north { 0.0 } else { 0.0016 },
                        lon,
                    };
                    if community == first_community {
                        if let Some(name) = landmark_compounds.next() {
                            // Large enough for every address the tests name
                            // (蜀汉花园三幢2单元501室).
                            compound.name = (*name).to_owned();
                            compound.buildings = compound.buildings.max(6);
                            compound.units = compound.units.max(2);
                            compound.floors = compound.floors.max(6);
                            compound.rooms_per_floor = compound.rooms_per_floor.max(2);
                        }
                    }
                    self.compounds.push(compound);
                }
                number += 2 * rng.gen_range(3..=12);
            }
            for s in 0..SHOPS_PER_ROAD {
                let slot = s * along / SHOPS_PER_ROAD;
                let community = first_community + slot / per_community;
                self.frontages.push(Frontage {
                    road,
                    number: number + 2 * s as u32,
                    grid: community * GRIDS_PER_COMMUNITY + grid_row,
                    lat: lat + 0.0002,
                    lon: west + width * (slot as f64 + 0.5) / along as f64,
                });
            }
        }
    }

    /// Every room of every compound and every frontage, as the import reads
    /// them: rooms stream, so a town of ten million addresses never sits in
    /// memory as records.
    pub fn addresses(&self) -> impl Iterator<Item = RawAddressRecord> + '_ {
        let rooms = self.compounds.iter().flat_map(move |compound| {
            let grid = &self.grids[compound.grid];
            let community = &self.communities[grid.community];
            let road = &self.roads[compound.road];
            (1..=compound.buildings).flat_map(move |building| {
                let (lat, lon) = building_position(compound, building);
                (1..=compound.units).flat_map(move |unit| {
                    (1..=compound.floors).flat_map(move |floor| {
                        (1..=compound.rooms_per_floor).map(move |door| RawAddressRecord {
                            community_code: community.code.clone(),
                            grid_code: grid.code.clone(),
                            compound: compound.name.clone(),
                            road: road.name.clone(),
                            road_number: format!("{}号", compound.number),
                            building: format!("{building}栋"),
                            unit: format!("{unit}单元"),
                            floor: floor.to_string(),
                            room: format!("{floor}{door:02}"),
                            lat: format!("{lat:.6}"),
                            lon: format!("{lon:.6}"),
                            ..Default::default()
                        })
                    })
                })
            })
        });
        let shops = self.frontages.iter().map(move |shop| {
            let grid = &self.grids[shop.grid];
            RawAddressRecord {
                community_code: self.communities[grid.community].code.clone(),
                grid_code: grid.code.clone(),
                road: self.roads[shop.road].name.clone(),
                road_number: format!("{}号", shop.number),
                // A house on a road is its own building: the plate is the
                // number (门牌).
                building: format!("{}号", shop.number),
                lat: format!("{:.6}", shop.lat),
                lon: format!("{:.6}", shop.lon),
                ..Default::default()
            }
        });
        rooms.chain(shops)
    }

    /// How many rooms and frontages [`Town::addresses`] yields.
    pub fn address_count(&self) -> u64 {
        let rooms: u64 = self
            .compounds
            .iter()
            .map(|c| (c.buildings * c.units * c.floors * c.rooms_per_floor) as u64)
            .sum();
        rooms + self.frontages.len() as u64
    }

    pub fn street_of_grid(&self, grid: usize) -> usize {
        self.communities[self.grids[grid].community].street
    }
}

/// Buildings of a compound in rows of four, 40 m apart.
pub fn building_position(compound: &Compound, building: u32) -> (f64, f64) {
    let row = (building - 1) / 4;
    let column = (building - 1) % 4;
    (
        compound.lat + row as f64 * 0.00036,
        compound.lon + column as f64 * 0.00042,
    )
}

fn numbered(role: &str, index: usize, station: &str) -> String {
    if index == 0 {
        format!("{role}.{station}")
    } else {
        format!("{role}{}.{station}", index + 1)
    }
}

impl Town {
    /// The road network: each street's east–west roads, crossed at every
    /// community boundary by north–south roads (纵一路, 纵二路, … counted
    /// from the west across the town) that run the height of the street's
    /// cell and meet the next street's at its edge. Roads meet only where
    /// they share a point, as the core's network wants.
    pub fn road_lines(&self) -> Vec<RoadLine> {
        let (height, width) = cell_size(self.spec.scale);
        let at = |lat: f64, lon: f64| Wgs84::new(lat, lon).expect("the town lies in China");
        let crossing = |street: &Street, j: usize| {
            street.origin.1 + width * j as f64 / COMMUNITIES_PER_STREET as f64
        };
        let mut lines = Vec::new();
        for (index, street) in self.streets.iter().enumerate() {
            let (south, _) = street.origin;
            let mut lats: Vec<f64> = Vec::new();
            for road in self
                .roads
                .iter()
                .filter(|r| self.streets[r.street].key == street.key)
            {
                let points = (0..=COMMUNITIES_PER_STREET)
                    .map(|j| at(road.lat, crossing(street, j)))
                    .collect();
                lines.push(RoadLine::new(&road.name, points).expect("a named road of points"));
                lats.push(road.lat);
            }
            lats.sort_by(f64::total_cmp);
            for j in 0..=COMMUNITIES_PER_STREET {
                let lon = crossing(street, j);
                let points = std::iter::once(south)
                    .chain(lats.iter().copied())
                    .chain(std::iter::once(south + height))
                    .map(|lat| at(lat, lon))
                    .collect();
                let column = (index % 3) * COMMUNITIES_PER_STREET + j + 1;
                let name = format!("纵{}路", chinese_number(column));
                lines.push(RoadLine::new(&name, points).expect("a named road of points"));
            }
        }
        lines
    }
}

/// 1 to 99 as Chinese numerals: 一, 十, 十三, 二十一.
fn chinese_number(n: usize) -> String {
    const DIGITS: [&str; 10] = ["", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    match (n / 10, n % 10) {
        (0, ones) => DIGITS[ones].to_owned(),
        (1, ones) => format!("十{}", DIGITS[ones]),
        (tens, ones) => format!("{}十{}", DIGITS[tens], DIGITS[ones]),
    }
}

/// Larger towns get larger cells, so that density stays that of a town.
fn cell_size(scale: u32) -> (f64, f64) {
    let grow = (scale as f64).sqrt();
    (CELL.0 * grow, CELL.1 * grow)
}

/// Streets in rows of three, from the south-west.
fn cell_origin(index: usize, scale: u32) -> (f64, f64) {
    let (height, width) = cell_size(scale);
    (
        ORIGIN.0 + (index / 3) as f64 * height,
        ORIGIN.1 + (index % 3) as f64 * width,
    )
}

fn organisations(streets: &[Street]) -> Vec<OrgPlan> {
    let plan =
        |key: &str, parent: Option<&str>, kind, dept, name: &str, codes: Vec<String>| OrgPlan {
            key: key.to_owned(),
            parent: parent.map(str::to_owned),
            kind,
            department_type: dept,
            name: name.to_owned(),
            division_codes: codes,
        };
    let mut orgs = vec![
        plan(
            "province",
            None,
            OrgKind::ProvinceBureau,
            None,
            "四川省公安厅",
            vec![PROVINCE.0.into()],
        ),
        plan(
            "city",
            Some("province"),
            OrgKind::CityBureau,
            None,
            "成都市公安局",
            vec![CITY.0.into()],
        ),
        plan(
            "county",
            Some("city"),
            OrgKind::CountyBureau,
            None,
            "成都市公安局武侯区分局",
            vec![DISTRICT.0.into()],
        ),
    ];
    for (i, street) in streets.iter().enumerate() {
        let codes = vec![street.code.to_owned()];
        let key = street.key;
        orgs.push(plan(
            key,
            Some("county"),
            OrgKind::PoliceStation,
            None,
            &format!("{}派出所", street.short_name),
            codes.clone(),
        ));
        orgs.push(plan(
            &format!("{key}_room"),
            Some(key),
            OrgKind::CommandRoom,
            None,
            &format!("{}派出所综合指挥室", street.short_name),
            codes.clone(),
        ));
        if i == 0 {
            orgs.push(plan(
                &format!("{key}_joint"),
                Some(key),
                OrgKind::JointDutyStation,
                None,
                "锦里联勤警务站",
                codes.clone(),
            ));
        }
    }
    orgs.push(plan(
        "zone",
        Some("county"),
        OrgKind::WarZone,
        None,
        "武侯区第一战区",
        streets.iter().map(|s| s.code.to_owned()).collect(),
    ));
    for &(key, kind, name) in DEPARTMENTS {
        orgs.push(plan(
            key,
            Some("county"),
            OrgKind::Department,
            Some(kind),
            name,
            vec![DISTRICT.0.into()],
        ));
    }
    for street in streets {
        orgs.push(plan(
            &format!("{}_centre", street.key),
            Some("county"),
            OrgKind::GovernanceCentre,
            None,
            &format!("{}街道综治中心", street.short_name),
            vec![street.code.to_owned()],
        ));
    }
    orgs
}

#[cfg(test)]
mod tests {
    use super::*;
    use fengqiao_core::road::RoadNetwork;
    use std::collections::BTreeSet;

    #[test]
    fn one_seed_one_town_another_seed_another() {
        let spec = TownSpec::default();
        assert_eq!(Town::generate(spec), Town::generate(spec));
        let other = Town::generate(TownSpec { seed: 7, ..spec });
        assert_ne!(other.compounds, Town::generate(spec).compounds);
    }

    #[test]
    fn the_demo_town_has_every_part_a_station_needs() {
        let town = Town::generate(TownSpec::default());
        assert_eq!(town.streets.len(), 4);
        assert_eq!(town.communities.len(), 16);
        assert_eq!(town.grids.len(), 32);
        let rooms = town.address_count();
        assert!((20_000..200_000).contains(&rooms), "{rooms} rooms");
        assert_eq!(town.addresses().count() as u64, rooms);
        // Every grid has compounds, an officer and a grid worker.
        for (g, grid) in town.grids.iter().enumerate() {
            assert!(
                town.compounds.iter().any(|c| c.grid == g),
                "grid {}",
                grid.code
            );
            assert_eq!(town.people[grid.officer].role, Role::CommunityOfficer);
            assert_eq!(town.people[grid.workers[0]].role, Role::GridWorker);
        }
        // The names the README and the browser tests use are there, with
        // the officer and grid worker they expect.
        let jinli = town
            .compounds
            .iter()
            .find(|c| c.name == "锦里小区")
            .unwrap();
        let grid = &town.grids[jinli.grid];
        assert_eq!(town.communities[grid.community].name, "锦里社区");
        assert_eq!(town.people[grid.officer].username, "minjing.jxj");
        assert!(town
            .compounds
            .iter()
            .any(|c| c.name == "蜀汉花园" && c.units >= 2));
        // Every role can sign in, one of each printed.
        for role in Role::ALL {
            let featured = town
                .people
                .iter()
                .filter(|p| p.featured && p.role == role)
                .count();
            assert!(featured >= 1, "{role}");
        }
        let usernames: BTreeSet<&str> = town.people.iter().map(|p| p.username.as_str()).collect();
        assert_eq!(usernames.len(), town.people.len());
        // Every person's organisation exists, parents come first.
        for person in &town.people {
            assert!(
                town.orgs.iter().any(|o| o.key == person.org),
                "{}",
                person.org
            );
        }
        for (i, org) in town.orgs.iter().enumerate() {
            if let Some(parent) = &org.parent {
                assert!(
                    town.orgs[..i].iter().any(|o| &o.key == parent),
                    "{}",
                    org.key
                );
            }
        }
    }

    #[test]
    fn grids_are_contiguous_blocks_inside_their_street() {
        let town = Town::generate(TownSpec::default());
        for (g, _) in town.grids.iter().enumerate() {
            let street = &town.streets[town.street_of_grid(g)];
            let (height, width) = cell_size(1);
            for c in town.compounds.iter().filter(|c| c.grid == g) {
                assert!(c.lat >= street.origin.0 - 0.002 && c.lat <= street.origin.0 + height);
                assert!(c.lon >= street.origin.1 && c.lon <= street.origin.1 + width);
            }
        }
    }

    #[test]
    fn a_scaled_town_grows_in_compounds_not_in_stations() {
        let small = Town::generate(TownSpec::default());
        let large = Town::generate(TownSpec {
            scale: 9,
            ..TownSpec::default()
        });
        assert_eq!(large.grids.len(), small.grids.len());
        assert!(large.compounds.len() >= 8 * small.compounds.len());
    }

    #[test]
    fn the_roads_join_every_street_into_one_network() {
        let town = Town::generate(TownSpec::default());
        let lines = town.road_lines();
        assert_eq!(chinese_number(13), "十三");
        assert_eq!(chinese_number(21), "二十一");
        assert!(lines.iter().any(|l| l.name == "纵一路"));
        let network = RoadNetwork::new(lines);
        // From the first compound to every other, over the roads.
        let first = &town.compounds[0];
        let from = Wgs84::new(first.lat, first.lon).unwrap();
        let reach = network.towards(&from).expect("compounds lie by roads");
        for compound in &town.compounds {
            let to = Wgs84::new(compound.lat, compound.lon).unwrap();
            let metres = reach.metres_from(&to).expect("every compound is reached");
            assert!(metres >= from.distance_m(&to) * 0.99, "{}", compound.name);
        }
    }
}
