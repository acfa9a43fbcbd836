//! What the town's people call about, and when: calls in the words callers
//! use, across every category in about the proportions stations report (half
//! of them not police work), at the hours they come in (fights and noise at
//! night, consultations by day, accidents at rush hour), with a few
//! buildings that call again and again — the repeat calls that signal a
//! dispute turning bad — and how each work order is later carried through.
//!
//! Each day is drawn from its own stream of the seed, so a day is the same
//! whether it is generated alone or in a run of ninety, and a town ten
//! million calls large streams day by day.

use fengqiao_core::china_time::{ChinaDay, DAY_MS};
use fengqiao_core::Timestamp;
use rand::seq::SliceRandom;
use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::names;
use crate::town::{building_position, Town};

const HOUR_MS: i64 = 3_600_000;

/// When in the day a kind of call comes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rhythm {
    /// Quarrels, fights, noise: evening and night.
    Night,
    /// Offices, shops, departments: working hours.
    Day,
    /// Traffic: the two rush hours.
    Rush,
    /// Any hour alike.
    Even,
}

impl Rhythm {
    /// Relative weight of each hour of the day, 0 to 23, local time.
    fn hours(self) -> [u32; 24] {
        match self {
            Rhythm::Night => [
                8, 6, 4, 2, 1, 1, 1, 2, 3, 3, 3, 4, 4, 4, 4, 4, 5, 6, 8, 10, 12, 13, 13, 11,
            ],
            Rhythm::Day => [
                1, 1, 0, 0, 0, 1, 2, 4, 8, 12, 12, 11, 8, 9, 11, 11, 10, 8, 5, 4, 3, 2, 2, 1,
            ],
            Rhythm::Rush => [
                2, 1, 1, 1, 1, 2, 5, 12, 14, 8, 6, 6, 7, 6, 6, 7, 9, 13, 14, 9, 6, 5, 4, 3,
            ],
            Rhythm::Even => [4; 24],
        }
    }
}

/// (category code, weight per thousand calls, rhythm, what callers say).
/// `{n}`, `{money}`, `{thing}`, `{kin}`, `{minutes}` are filled at random.
const CALLS: &[(&str, u32, Rhythm, &[&str])] = &[
    // 警务类
    (
        "theft",
        55,
        Rhythm::Day,
        &[
            "我的电瓶车在楼下被偷了，锁都被剪断了",
            "刚才在菜市场手机被人偷了，{thing}也不见了",
            "停在路边的车窗被砸了，车里的包被偷走了",
        ],
    ),
    (
        "burglary",
        15,
        Rhythm::Night,
        &[
            "回家发现门锁被撬了，家里被翻得乱七八糟，丢了现金{money}元",
            "家里进贼了，窗户被撬开，首饰不见了",
        ],
    ),
    (
        "robbery",
        5,
        Rhythm::Night,
        &[
            "刚才在巷子里被人抢了包，那人骑摩托车跑了",
            "有人拿刀抢了我的手机，往南边跑了",
        ],
    ),
    (
        "fraud",
        30,
        Rhythm::Day,
        &[
            "有人上门推销保健品，收了老人{money}元，东西是假的",
            "我在网上买东西付了{money}元定金，对方收了钱就不回消息了",
        ],
    ),
    (
        "telecom_fraud",
        40,
        Rhythm::Day,
        &[
            "接到自称公检法的电话，说我涉嫌洗钱，让我转账到安全账户，已经转了{money}元",
            "网上刷单被骗了{money}元，对方说要先垫付才能返佣金",
            "有人冒充我儿子加微信借钱，我转了{money}元才发现是假的",
        ],
    ),
    (
        "assault",
        20,
        Rhythm::Night,
        &[
            "我被人打了，脸上流血了，打人的还在门口",
            "楼下的人把我老公打伤了，头上在流血",
        ],
    ),
    (
        "indecency",
        5,
        Rhythm::Night,
        &[
            "公交车上有个男的一直摸我，现在到站了",
            "有人在小区里对女孩子耍流氓，露下体",
        ],
    ),
    (
        "fight",
        60,
        Rhythm::Night,
        &[
            "烧烤摊有{n}个人在打架，有人拿酒瓶子砸人",
            "楼下有人打架，打得很凶，快来人",
            "茶馆门口两帮人打起来了，有人受伤了",
        ],
    ),
    (
        "disturbance",
        30,
        Rhythm::Night,
        &[
            "有几个喝醉的人在店里闹事，砸东西，不给钱",
            "有人在小区门口拦着车辆闹事，不让进出",
        ],
    ),
    (
        "gambling",
        10,
        Rhythm::Night,
        &[
            "楼下麻将馆有人聚众赌博，赌得很大",
            "有人在出租屋里打牌赌钱，每天晚上都有很多人",
        ],
    ),
    (
        "drugs",
        5,
        Rhythm::Night,
        &[
            "隔壁出租屋里经常有人吸毒，有很浓的怪味",
            "看到有人在楼道里注射毒品",
        ],
    ),
    (
        "domestic_violence",
        30,
        Rhythm::Night,
        &[
            "我老公喝了酒又打我，我现在躲在外面",
            "楼上的男的在打老婆，一直听到女的哭喊救命",
            "我被我丈夫家暴了，孩子也被打了",
        ],
    ),
    (
        "prostitution",
        3,
        Rhythm::Night,
        &["这家足浴店里有卖淫嫖娼的情况"],
    ),
    (
        "traffic_accident",
        80,
        Rhythm::Rush,
        &[
            "路口两辆车撞了，没有人受伤，堵在路中间",
            "电瓶车和小汽车撞了，骑车的人腿受伤了",
            "我的车被追尾了，对方不愿意等交警",
        ],
    ),
    (
        "fire",
        10,
        Rhythm::Even,
        &[
            "楼里冒烟了，好像是{n}楼着火了",
            "路边的电动车着火了，火很大",
        ],
    ),
    (
        "suicide_risk",
        10,
        Rhythm::Night,
        &[
            "有个人坐在楼顶边上说要跳楼",
            "我朋友发消息说不想活了，电话打不通",
        ],
    ),
    (
        "missing_person",
        15,
        Rhythm::Even,
        &[
            "我女儿放学{n}个小时了还没回家，电话也关机",
            "家里人出门两天了联系不上，手机一直关机",
        ],
    ),
    (
        "lost_child_or_elder",
        20,
        Rhythm::Day,
        &[
            "我家老人有老年痴呆，早上出门走丢了",
            "在超市里孩子走丢了，{n}岁，穿红衣服",
        ],
    ),
    (
        "trapped_person",
        15,
        Rhythm::Even,
        &[
            "电梯坏了，我被困在电梯里出不去",
            "老人反锁在家里，敲门没人应，怕出事",
        ],
    ),
    (
        "person_in_distress",
        20,
        Rhythm::Even,
        &["路边有个老人倒在地上起不来", "有个人晕倒在公交站，叫不醒"],
    ),
    (
        "suspicious_activity",
        20,
        Rhythm::Night,
        &[
            "有个陌生人在小区里挨家挨户推门，很可疑",
            "楼下有人一直在看车，拿手电筒往车里照",
        ],
    ),
    (
        "mass_incident",
        2,
        Rhythm::Day,
        &["有{n}0多个工人围在工地门口讨薪，堵住了马路"],
    ),
    // 非警务类
    (
        "neighbour_dispute",
        70,
        Rhythm::Night,
        &[
            "楼上邻居家漏水到我家，找他们好几次都不管，吵起来了",
            "和隔壁邻居因为楼道堆放杂物吵架",
            "邻居家的空调外机对着我家窗户，说了不改，发生争吵",
        ],
    ),
    (
        "family_dispute",
        40,
        Rhythm::Night,
        &[
            "和我老公吵架了，他要离婚，要把孩子带走",
            "兄弟几个因为老人的房子分财产吵起来了",
            "儿子不赡养老人，老人没饭吃来求助",
        ],
    ),
    (
        "wage_arrears",
        40,
        Rhythm::Day,
        &[
            "老板拖欠我们{n}个人的工资，{n}个月没发了",
            "工地包工头欠了我{money}元工钱不给，人也找不到了",
        ],
    ),
    (
        "labour_dispute",
        20,
        Rhythm::Day,
        &[
            "公司无故把我辞退了，不给经济补偿",
            "单位不给我们买社保，也不签劳动合同",
        ],
    ),
    (
        "consumer_dispute",
        40,
        Rhythm::Day,
        &[
            "在健身房办了卡，现在店老板跑路了，不给退钱",
            "买的{thing}有质量问题，商家不给退换",
            "饭店吃饭收费和菜单上的价格不一样，老板不认账",
        ],
    ),
    (
        "property_management",
        40,
        Rhythm::Day,
        &[
            "物业不管事，小区垃圾{n}天没人清理了",
            "小区电梯坏了一个星期，物业一直不修",
            "物业乱收停车费，业主和物业吵起来了",
        ],
    ),
    (
        "rental_dispute",
        20,
        Rhythm::Day,
        &[
            "房东不退押金，说我把房子弄坏了",
            "租客拖欠房租{n}个月不交也不搬走",
        ],
    ),
    (
        "street_vending",
        20,
        Rhythm::Day,
        &[
            "路边有很多摊贩占道经营，人行道都走不通了",
            "小区门口有人摆摊卖菜，堵住了出入口",
        ],
    ),
    (
        "illegal_building",
        10,
        Rhythm::Day,
        &[
            "顶楼的住户在楼顶私自搭建房子",
            "一楼住户把院子围起来加盖了一间房",
        ],
    ),
    (
        "construction_noise",
        30,
        Rhythm::Night,
        &[
            "工地晚上{n}点了还在施工，吵得睡不着",
            "半夜还有工地在打桩，噪音很大",
        ],
    ),
    (
        "illegal_parking",
        40,
        Rhythm::Rush,
        &[
            "有辆车堵在我家车库门口，打电话也不接",
            "消防通道被车堵住了，好几辆车乱停",
        ],
    ),
    (
        "water_supply",
        15,
        Rhythm::Day,
        &[
            "我们这栋楼停水了，也没有通知",
            "路边的自来水管爆了，水流了一地",
        ],
    ),
    (
        "power_supply",
        10,
        Rhythm::Even,
        &[
            "我们小区停电{n}个小时了，冰箱里的东西都坏了",
            "楼下的电线断了掉在地上，还在冒火花",
        ],
    ),
    (
        "gas_leak",
        5,
        Rhythm::Even,
        &["楼道里有很大的燃气味，好像是天然气泄漏"],
    ),
    (
        "gas_supply",
        5,
        Rhythm::Day,
        &["家里天然气打不着火，燃气表充了钱也没有气"],
    ),
    (
        "manhole_cover",
        5,
        Rhythm::Day,
        &["路边的井盖不见了，很危险，晚上看不到"],
    ),
    (
        "street_light",
        10,
        Rhythm::Night,
        &["我们这条街的路灯坏了一个多星期，晚上黑得很"],
    ),
    (
        "municipal_facility",
        10,
        Rhythm::Day,
        &[
            "路面塌了一个大坑，车子开过去很危险",
            "下水道堵了，污水冒到路上了",
        ],
    ),
    (
        "pollution",
        10,
        Rhythm::Day,
        &[
            "旁边的餐馆油烟直接排到我家窗户，熏得受不了",
            "有工厂往河里排污水，河水都变黑了",
        ],
    ),
    (
        "noise",
        40,
        Rhythm::Night,
        &[
            "楼上每天晚上很吵，跳来跳去，说了也不听",
            "楼下广场舞音响开得太大声，吵得不行",
            "隔壁KTV唱歌到半夜，噪音扰民",
        ],
    ),
    (
        "stray_animal",
        10,
        Rhythm::Day,
        &["小区里有几条流浪狗，很凶，追着小孩咬"],
    ),
    (
        "pet_nuisance",
        15,
        Rhythm::Night,
        &[
            "邻居家的狗整夜叫，吵得睡不着",
            "有人遛狗不拴绳，狗把我家孩子吓到了",
        ],
    ),
    (
        "vagrant_assistance",
        5,
        Rhythm::Day,
        &["桥下有个流浪的老人，天冷了没有地方住"],
    ),
    (
        "consultation",
        50,
        Rhythm::Day,
        &[
            "我想问一下办身份证需要带什么材料",
            "请问居住证在哪里办理，需要什么手续",
            "想咨询一下户口迁移怎么办",
        ],
    ),
    ("other", 10, Rhythm::Day, &["我捡到一个钱包，想交给你们"]),
];

const THINGS: &[&str] = &["钱包", "身份证", "银行卡", "电脑", "手机", "冰箱", "洗衣机"];
const MINUTES: &[&str] = &["十", "二十", "半个小时", "一个小时"];

/// Where a call is from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// A room of a compound: building and unit and room from 1.
    Room {
        compound: usize,
        building: u32,
        unit: u32,
        floor: u32,
        door: u32,
    },
    /// A house number on a road.
    Frontage(usize),
}

/// How a non-police work order is later carried through, as the minutes
/// after intake each step happens; the demo plays them through the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FollowThrough {
    /// The first owner refuses it (wrong department) and it is re-routed.
    pub rejected_first: bool,
    pub accept_after_minutes: i64,
    pub finish_after_minutes: i64,
    /// The caller's answer at the follow-up: solved or not, and 1 to 5.
    pub resolved: bool,
    pub satisfaction: u8,
}

/// One call as the station receives it.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub at: Timestamp,
    /// Index of the station (= street) that covers the place.
    pub station: usize,
    /// call_110, phone, walk_in, grid_worker, qr_report.
    pub source: &'static str,
    pub text: String,
    pub location_text: String,
    pub place: Place,
    /// The category the caller's words are about (triage decides for real).
    pub category: &'static str,
    pub reporter_name: Option<String>,
    pub reporter_phone: Option<String>,
    pub follow: FollowThrough,
}

/// The calls of a town, day by day.
#[derive(Debug, Clone)]
pub struct Calls<'a> {
    town: &'a Town,
    seed: u64,
    /// Mean calls a station receives a day.
    pub per_station_per_day: f64,
    /// Buildings that call again and again (rooms of compounds).
    hot: Vec<Place>,
    /// Each station's frontages, and the first and count of its compounds
    /// (a street's compounds are contiguous): looked up once, so a call
    /// costs the same in a town of ten million rooms as in the demo's.
    frontages_of: Vec<Vec<usize>>,
    compounds_of: Vec<(usize, usize)>,
}

impl<'a> Calls<'a> {
    pub fn new(town: &'a Town, seed: u64, per_station_per_day: f64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_ca11);
        // Two buildings per station where a quarrel goes on for months.
        let mut hot = Vec::new();
        for street in 0..town.streets.len() {
            let compounds: Vec<usize> = (0..town.compounds.len())
                .filter(|&c| town.street_of_grid(town.compounds[c].grid) == street)
                .collect();
            let picks: Vec<usize> = compounds.choose_multiple(&mut rng, 2).copied().collect();
            for compound in picks {
                hot.push(random_room(town, compound, &mut rng));
            }
        }
        let frontages_of = (0..town.streets.len())
            .map(|station| {
                (0..town.frontages.len())
                    .filter(|&f| town.street_of_grid(town.frontages[f].grid) == station)
                    .collect()
            })
            .collect();
        let compounds_of = (0..town.streets.len())
            .map(|station| {
                let first = town
                    .compounds
                    .iter()
                    .position(|c| town.street_of_grid(c.grid) == station)
                    .expect("every street has compounds");
                let count = town.compounds[first..]
                    .iter()
                    .take_while(|c| town.street_of_grid(c.grid) == station)
                    .count();
                (first, count)
            })
            .collect();
        Calls {
            town,
            seed,
            per_station_per_day,
            hot,
            frontages_of,
            compounds_of,
        }
    }

    /// The calls of the local day that starts at `midnight` (CST), in time
    /// order. `day` numbers the day in the seed's streams.
    pub fn day(&self, day: u64, midnight: Timestamp) -> Vec<Call> {
        let mut rng =
            ChaCha8Rng::seed_from_u64(self.seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ day);
        let weekend = if ChinaDay::of(midnight).is_weekend() {
            1.15
        } else {
            1.0
        };
        let mut calls = Vec::new();
        for station in 0..self.town.streets.len() {
            let mean = self.per_station_per_day * weekend;
            let count = (mean * rng.gen_range(0.75..1.25)).round() as usize;
            for _ in 0..count {
                let (category, rhythm, templates) = pick_category(&mut rng);
                let place = self.random_place(station, &mut rng);
                calls.push(self.call(
                    &mut rng, midnight, station, category, rhythm, templates, place,
                ));
            }
            // The hot buildings of this station call on about one day in
            // eight: chains of three within a month come up every month.
            for &place in self.hot.iter().filter(|p| self.station_of(**p) == station) {
                if rng.gen_bool(0.13) {
                    let category = if rng.gen_bool(0.6) {
                        "noise"
                    } else {
                        "neighbour_dispute"
                    };
                    let (_, _, rhythm, templates) = CALLS
                        .iter()
                        .find(|(code, ..)| *code == category)
                        .expect("listed");
                    calls.push(self.call(
                        &mut rng, midnight, station, category, *rhythm, templates, place,
                    ));
                }
            }
        }
        calls.sort_by_key(|c| c.at);
        calls
    }

    /// The calls of the `days` local days that end with the day before
    /// `today_midnight`, oldest first.
    pub fn history(&self, today_midnight: Timestamp, days: u64) -> impl Iterator<Item = Call> + '_ {
        (0..days).rev().flat_map(move |back| {
            let midnight = Timestamp(today_midnight.millis() - (back as i64 + 1) * DAY_MS);
            self.day(ChinaDay::of(midnight).number() as u64, midnight)
        })
    }

    fn station_of(&self, place: Place) -> usize {
        let grid = match place {
            Place::Room { compound, .. } => self.town.compounds[compound].grid,
            Place::Frontage(f) => self.town.frontages[f].grid,
        };
        self.town.street_of_grid(grid)
    }

    fn random_place(&self, station: usize, rng: &mut ChaCha8Rng) -> Place {
        if rng.gen_bool(0.2) {
            if let Some(&f) = self.frontages_of[station].choose(rng) {
                return Place::Frontage(f);
            }
        }
        let (first, count) = self.compounds_of[station];
        random_room(self.town, first + rng.gen_range(0..count), rng)
    }

    #[allow(clippy::too_many_arguments)]
    fn call(
        &self,
        rng: &mut ChaCha8Rng,
        midnight: Timestamp,
        station: usize,
        category: &'static str,
        rhythm: Rhythm,
        templates: &[&str],
        place: Place,
    ) -> Call {
        let hours = rhythm.hours();
        let total: u32 = hours.iter().sum();
        let mut pick = rng.gen_range(0..total);
        let hour = hours
            .iter()
            .position(|&w| {
                let hit = pick < w;
                pick = pick.saturating_sub(w);
                hit
            })
            .unwrap_or(12) as i64;
        let at = Timestamp(midnight.millis() + hour * HOUR_MS + rng.gen_range(0..HOUR_MS));
        let template = templates.choose(rng).expect("every category has words");
        let text = fill(template, rng);
        let source = pick_source(rng);
        let named = source != "qr_report" && rng.gen_bool(0.7);
        let late = rng.gen_bool(0.12);
        Call {
            at,
            station,
            source,
            text,
            location_text: self.location_text(place, rng),
            place,
            category,
            reporter_name: named.then(|| names::person(rng)),
            reporter_phone: (source != "qr_report" || rng.gen_bool(0.3)).then(|| names::phone(rng)),
            follow: FollowThrough {
                rejected_first: rng.gen_bool(0.05),
                accept_after_minutes: if late {
                    rng.gen_range(40..300)
                } else {
                    rng.gen_range(3..30)
                },
                finish_after_minutes: if late {
                    rng.gen_range(2 * 1440..6 * 1440)
                } else {
                    rng.gen_range(60..1440)
                },
                resolved: rng.gen_bool(0.88),
                satisfaction: *[5, 5, 5, 4, 4, 4, 3, 2, 1].choose(rng).expect("non-empty"),
            },
        }
    }

    /// As callers say it: with or without the street, the compound or the
    /// road and number, the unit and the room.
    fn location_text(&self, place: Place, rng: &mut ChaCha8Rng) -> String {
        let town = self.town;
        match place {
            Place::Frontage(f) => {
                let shop = &town.frontages[f];
                let road = &town.roads[shop.road].name;
                match rng.gen_range(0..3) {
                    0 => format!("{road}{}号", shop.number),
                    1 => format!(
                        "{}{road}{}号附近",
                        town.streets[town.roads[shop.road].street].short_name, shop.number
                    ),
                    _ => format!("武侯区{road}{}号门口", shop.number),
                }
            }
            Place::Room {
                compound,
                building,
                unit,
                floor,
                door,
            } => {
                let c = &town.compounds[compound];
                let street = town.streets[town.roads[c.road].street].short_name;
                let room = format!("{floor}{door:02}");
                match rng.gen_range(0..5) {
                    0 => format!("{}{building}栋{unit}单元{room}", c.name),
                    1 => format!("{street}{}{building}栋{unit}单元{room}号", c.name),
                    2 => format!("{}{building}栋", c.name),
                    3 => format!(
                        "{}{}号{}{building}栋",
                        town.roads[c.road].name, c.number, c.name
                    ),
                    _ => format!("武侯区{street}{}{building}栋{unit}单元", c.name),
                }
            }
        }
    }
}

/// The position of a place, for maps.
pub fn place_position(town: &Town, place: Place) -> (f64, f64) {
    match place {
        Place::Room {
            compound, building, ..
        } => building_position(&town.compounds[compound], building),
        Place::Frontage(f) => (town.frontages[f].lat, town.frontages[f].lon),
    }
}

fn random_room(town: &Town, compound: usize, rng: &mut ChaCha8Rng) -> Place {
    let c = &town.compounds[compound];
    Place::Room {
        compound,
        building: rng.gen_range(1..=c.buildings),
        unit: rng.gen_range(1..=c.units),
        floor: rng.gen_range(1..=c.floors),
        door: rng.gen_range(1..=c.rooms_per_floor),
    }
}

fn pick_source(rng: &mut ChaCha8Rng) -> &'static str {
    const SOURCES: [(&str, u32); 5] = [
        ("call_110", 70),
        ("phone", 10),
        ("walk_in", 8),
        ("grid_worker", 7),
        ("qr_report", 5),
    ];
    let mut pick = rng.gen_range(0..100);
    for (source, weight) in SOURCES {
        if pick < weight {
            return source;
        }
        pick -= weight;
    }
    unreachable!("the weights sum to 100")
}

fn pick_category(rng: &mut ChaCha8Rng) -> (&'static str, Rhythm, &'static [&'static str]) {
    let total: u32 = CALLS.iter().map(|c| c.1).sum();
    let mut pick = rng.gen_range(0..total);
    for &(code, weight, rhythm, templates) in CALLS {
        if pick < weight {
            return (code, rhythm, templates);
        }
        pick -= weight;
    }
    unreachable!("pick is below the total")
}

fn fill(template: &str, rng: &mut ChaCha8Rng) -> String {
    let mut text = template.to_owned();
    for (slot, value) in [
        ("{n}", rng.gen_range(2..9).to_string()),
        ("{money}", (rng.gen_range(3..300) * 100).to_string()),
        (
            "{thing}",
            THINGS.choose(rng).expect("non-empty").to_string(),
        ),
        (
            "{minutes}",
            MINUTES.choose(rng).expect("non-empty").to_string(),
        ),
    ] {
        text = text.replace(slot, &value);
    }
    text
}

/// Every category the calls are drawn from, with its weight per thousand.
pub fn category_weights() -> impl Iterator<Item = (&'static str, u32)> {
    CALLS.iter().map(|c| (c.0, c.1))
}

/// Every text a call can carry, once per template with its slots filled.
pub fn sample_texts(seed: u64) -> Vec<(&'static str, String)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    CALLS
        .iter()
        .flat_map(|(code, _, _, templates)| templates.iter().map(move |t| (*code, *t)))
        .map(|(code, t)| (code, fill(t, &mut rng)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::town::TownSpec;

    /// 2026-11-26 00:00 in China.
    const MIDNIGHT: Timestamp = Timestamp(1_795_622_400_000);

    #[test]
    fn a_day_is_the_same_alone_or_in_a_run() {
        let town = Town::generate(TownSpec::default());
        let calls = Calls::new(&town, 1, 30.0);
        let run: Vec<Call> = calls.history(MIDNIGHT, 3).collect();
        let yesterday = Timestamp(MIDNIGHT.millis() - DAY_MS);
        let day = ChinaDay::of(yesterday).number() as u64;
        let alone = calls.day(day, yesterday);
        assert_eq!(&run[run.len() - alone.len()..], alone.as_slice());
        assert_eq!(run, calls.history(MIDNIGHT, 3).collect::<Vec<_>>());
        assert!(run.windows(2).all(|w| w[0].at <= w[1].at));
        assert!(run
            .iter()
            .all(|c| c.at < MIDNIGHT && c.at.millis() >= MIDNIGHT.millis() - 3 * DAY_MS));
    }

    #[test]
    fn about_half_the_calls_are_not_police_work_and_quarrels_come_at_night() {
        let town = Town::generate(TownSpec::default());
        let calls: Vec<Call> = Calls::new(&town, 2, 30.0).history(MIDNIGHT, 30).collect();
        assert!(calls.len() > 3000, "{}", calls.len());
        let police = [
            "theft",
            "burglary",
            "robbery",
            "fraud",
            "telecom_fraud",
            "assault",
            "indecency",
            "fight",
            "disturbance",
            "gambling",
            "drugs",
            "domestic_violence",
            "prostitution",
            "traffic_accident",
            "fire",
            "suicide_risk",
            "missing_person",
            "lost_child_or_elder",
            "trapped_person",
            "person_in_distress",
            "suspicious_activity",
            "mass_incident",
        ];
        let share = calls
            .iter()
            .filter(|c| !police.contains(&c.category))
            .count() as f64
            / calls.len() as f64;
        assert!((0.42..0.60).contains(&share), "non-police share {share}");
        let local_hour = |c: &Call| fengqiao_core::china_time::hour_of_day(c.at) as usize;
        let at_night = |code: &str| {
            let of: Vec<&Call> = calls.iter().filter(|c| c.category == code).collect();
            of.iter()
                .filter(|c| local_hour(c) >= 19 || local_hour(c) < 2)
                .count() as f64
                / of.len() as f64
        };
        assert!(
            at_night("fight") > 0.4,
            "fights at night {}",
            at_night("fight")
        );
        assert!(
            at_night("consultation") < 0.2,
            "consultations at night {}",
            at_night("consultation")
        );
    }

    #[test]
    fn hot_buildings_call_again_within_a_month() {
        let town = Town::generate(TownSpec::default());
        let calls: Vec<Call> = Calls::new(&town, 3, 30.0).history(MIDNIGHT, 90).collect();
        let mut repeated = 0;
        for place in Calls::new(&town, 3, 30.0).hot {
            let times: Vec<i64> = calls
                .iter()
                .filter(|c| c.place == place)
                .map(|c| c.at.millis())
                .collect();
            if times.windows(3).any(|w| w[2] - w[0] <= 30 * DAY_MS) {
                repeated += 1;
            }
        }
        assert!(
            repeated >= 6,
            "{repeated} of 8 hot buildings made three calls in 30 days"
        );
    }
}
