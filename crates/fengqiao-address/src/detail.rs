//! The part of an address below the divisions: community, road and number,
//! compound, building, unit, floor and room, read by a small hand-written scanner.

use crate::names::SEPARATOR;

/// What the scanner found after the divisions. Identifiers (building, unit,
/// floor, room) are normalised: Chinese numerals become digits, markers go.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Detail {
    /// A 镇/乡/街道 name the division table does not know (renamed or merged).
    pub township: Option<String>,
    pub community: Option<String>,
    pub road: Option<String>,
    pub road_number: Option<String>,
    pub compound: Option<String>,
    pub building: Option<String>,
    pub unit: Option<String>,
    pub floor: Option<String>,
    pub room: Option<String>,
}

/// Suffixes as characters, longest first where one ends another, so that the
/// scanner compares them with the text without decoding UTF-8.
type Suffixes = &'static [&'static [char]];
const TOWNSHIP_SUFFIXES: Suffixes = &[
    &['街', '道', '办', '事', '处'],
    &['街', '道', '办'],
    &['街', '道'],
    &['镇'],
    &['乡'],
];
const COMMUNITY_SUFFIXES: Suffixes = &[
    &['社', '区', '居', '委', '会'],
    &['居', '委', '会'],
    &['村', '委', '会'],
    &['社', '区'],
    &['村'],
];
const ROAD_SUFFIXES: Suffixes = &[
    &['大', '道'],
    &['大', '街'],
    &['公', '路'],
    &['胡', '同'],
    &['路'],
    &['街'],
    &['巷'],
];
const BUILDING_MARKERS: Suffixes = &[
    &['号', '楼'],
    &['栋', '楼'],
    &['幢', '楼'],
    &['#', '楼'],
    &['栋'],
    &['幢'],
    &['座'],
    &['撞'],
    &['懂'],
    &['憧'],
    &['#'],
];
const UNIT_MARKERS: Suffixes = &[&['单', '元'], &['单']];
const FLOOR_MARKERS: Suffixes = &[&['楼'], &['层'], &['F']];
const ROOM_MARKERS: Suffixes = &[&['号', '房'], &['室'], &['房'], &['户']];
/// Characters after a number that make it part of a name (8区, 2期, 13组团).
const NAME_AFTER_NUMBER: &[char] = &[
    '区', '组', '街', '厂', '路', '期', '排', '村', '巷', '门', '小', '馆', '站', '队', '中', '弄',
    '米', '国', '省', '县', '公',
];

/// "9B1161" → building 9B, room 1161: digits, one letter, then digits.
fn split_building_room(text: &str) -> Option<(&str, &str)> {
    let letter = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (head, tail) = text.split_at(letter + 1);
    let valid = letter > 0
        && head[..letter].bytes().all(|b| b.is_ascii_digit())
        && tail.len() >= 3
        && tail.bytes().all(|b| b.is_ascii_digit());
    valid.then_some((head, tail))
}

/// "1154-131" after a road: house 1154 and building 131. Two numbers that
/// rise by at most [`HOUSE_RANGE`] (1386-1388) are a range of house numbers.
fn house_and_building(digits: &str) -> Option<(&str, &str)> {
    let (house, building) = digits.split_once('-')?;
    let (a, b) = (house.parse::<u32>().ok()?, building.parse::<u32>().ok()?);
    let range = a < b && b - a <= HOUSE_RANGE;
    (!range && a != b).then_some((house, building))
}

/// "605-606", "19-21": numbers of one width rising by a little, a range of
/// rooms or stalls.
fn is_range(a: &str, b: &str) -> bool {
    match (a.parse::<u32>(), b.parse::<u32>()) {
        (Ok(x), Ok(y)) => a.len() >= 2 && a.len() == b.len() && x < y && y - x <= HOUSE_RANGE,
        _ => false,
    }
}

/// "1703-2" once the building or floor is known: room 1703, its part 2.
fn is_room_and_sub_number(room: &str, sub: &str) -> bool {
    room.len() >= 3 && is_number(room) && sub.len() <= 2 && is_number(sub)
}

/// How far apart two house numbers written as a range (1386-1388号) may be.
const HOUSE_RANGE: u32 = 20;

/// "B3" → ("B", "3"): one letter, then digits only.
fn split_letter_number(text: &str) -> Option<(&str, &str)> {
    let first = *text.as_bytes().first()?;
    let (block, number) = text.split_at(1);
    let valid = first.is_ascii_alphabetic()
        && !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit());
    valid.then_some((block, number))
}

/// Scans `text` (normalised, divisions already cut off). `want_township` lets a
/// leading 镇/乡/街道 name stand for a township the table did not find.
pub fn scan(text: &[char], want_township: bool) -> Detail {
    let mut scanner = Scanner {
        cs: text,
        i: 0,
        detail: Detail::default(),
    };
    scanner.run(want_township);
    scanner.detail
}

/// What the name just before a number is: a market (钱江市场8区135号) numbers
/// its stalls with 号; a compound, zone or block outside a village (泾西小区198号,
/// 瓜山东苑346号, 淘宝城12号) its buildings; elsewhere the first 号 is the house number.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Before {
    Market,
    Compound,
    Other,
}

impl Before {
    /// `pending` is the name text before the number; `village` whether a
    /// village was named (its 号 are house numbers, as on a road).
    fn of(pending: &[char], village: bool) -> Before {
        let market = pending.windows(2).any(|w| w == ['市', '场']);
        let village = village || pending.contains(&'村');
        // 工业区, 开发区, 园区 number their plots as a road does its houses.
        let block = |c: char| {
            c.is_ascii_alphanumeric()
                || is_chinese_digit(c)
                || matches!(c, '东' | '西' | '南' | '北' | '中')
        };
        match pending {
            _ if market => Before::Market,
            // 经西村泾西小区198号: a compound named after the village is a compound.
            [.., '小', '区'] => Before::Compound,
            [.., c, '苑' | '城' | '园'] if *c != '市' => Before::Compound,
            _ if village => Before::Other,
            [.., c, '区'] if block(*c) => Before::Compound,
            _ => Before::Other,
        }
    }
}

struct Scanner<'a> {
    cs: &'a [char],
    i: usize,
    detail: Detail,
}

/// A building, unit, floor or room identifier found by the scanner, held on
/// the stack: most candidates are never placed and should cost no allocation.
struct Ident {
    /// ASCII only: letters, digits, `-`.
    buf: [u8; IDENT_MAX],
    len: usize,
    end: usize,
}

/// Longer runs of letters and digits are not identifiers.
const IDENT_MAX: usize = 32;

impl Ident {
    fn new(end: usize) -> Ident {
        Ident {
            buf: [0; IDENT_MAX],
            len: 0,
            end,
        }
    }

    /// Appends an ASCII character; false when the identifier is full.
    fn push(&mut self, c: char) -> bool {
        if self.len == IDENT_MAX || !c.is_ascii() {
            return false;
        }
        self.buf[self.len] = c as u8;
        self.len += 1;
        true
    }

    fn push_number(&mut self, mut value: u32) -> bool {
        let mut digits = [0u8; 10];
        let mut n = 0;
        loop {
            digits[n] = b'0' + (value % 10) as u8;
            n += 1;
            value /= 10;
            if value == 0 {
                break;
            }
        }
        digits[..n].iter().rev().all(|&d| self.push(char::from(d)))
    }

    fn text(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or_default()
    }
}

impl Scanner<'_> {
    fn run(&mut self, want_township: bool) {
        self.skip_separators();
        // Township and community names are looked for in one pass over the text.
        let [township, mut community] = if want_township {
            self.name_endings(self.i, [TOWNSHIP_SUFFIXES, COMMUNITY_SUFFIXES], 8, false)
        } else {
            [None, self.name_ending(self.i, COMMUNITY_SUFFIXES, 8, false)]
        };
        if let Some(end) = township {
            // 瑶族自治区拉烈乡: the name starts after the last higher-level suffix.
            let start = (self.i..end)
                .rev()
                .find(|&k| k + 2 < end && matches!(self.cs[k], '省' | '市' | '区' | '县'))
                .map_or(self.i, |k| k + 1);
            self.detail.township = Some(self.collect(start, end));
            self.i = end;
            self.skip_separators();
            community = self.name_ending(self.i, COMMUNITY_SUFFIXES, 8, false);
        }
        if let Some(end) = community {
            if !self.ends_with_at(end, "新村") {
                self.detail.community = Some(self.collect(self.i, end));
                self.i = end;
                self.skip_separators();
            }
        }
        self.road();
        self.details();
    }

    fn road(&mut self) {
        if let Some(group) = self.numbered_group(self.i) {
            self.detail.road = Some(self.collect(self.i, group));
            self.i = group;
            return;
        }
        let Some(end) = self.name_ending(self.i, ROAD_SUFFIXES, 12, true) else {
            return;
        };
        if self.cs.get(end) == Some(&'道') {
            return;
        }
        self.detail.road = Some(self.collect(self.i, end));
        self.i = end;
        self.skip_separators();
        // 泡崖街玉境路26号: the second road is the one the number belongs to.
        if let Some(next) = self.name_ending(self.i, ROAD_SUFFIXES, 12, true) {
            if self.cs.get(next) != Some(&'道') && self.digits_at(next).is_some() {
                self.detail.road = Some(self.collect(self.i, next));
                self.i = next;
            }
        }
        let Some(number) = self.digits_at(self.i) else {
            return;
        };
        let after = &self.cs[number..];
        let followed_by = |marker: &[char]| begins(after, marker);
        if BUILDING_MARKERS.iter().any(|m| followed_by(m))
            || UNIT_MARKERS.iter().any(|m| followed_by(m))
            || FLOOR_MARKERS.iter().any(|m| followed_by(m))
        {
            return;
        }
        let digits = self.collect(self.i, number);
        if followed_by(&['弄']) {
            self.detail.road_number = Some(format!("{digits}弄"));
            self.i = number + 1;
            return;
        }
        let marked =
            followed_by(&['号']) && !followed_by(&['号', '楼']) && !followed_by(&['号', '房']);
        self.i = if marked { number + 1 } else { number };
        let suffix = if marked { "号" } else { "" };
        // 1154-131号 and 17-123号 are house 1154 (17) and building 131 (123)
        // beside it; 1386-1388号 (rising by a little) is a range of house numbers.
        match house_and_building(&digits) {
            Some((house, building)) => {
                self.detail.road_number = Some(format!("{house}{suffix}"));
                self.detail.building = Some(building.to_owned());
            }
            None => self.detail.road_number = Some(format!("{digits}{suffix}")),
        }
    }

    fn details(&mut self) {
        let mut name_start = self.i;
        let mut named = false;
        while self.i < self.cs.len() {
            let c = self.cs[self.i];
            if c == SEPARATOR {
                self.close_name(name_start, self.i, &mut named);
                self.i += 1;
                name_start = self.i;
                continue;
            }
            if let Some(ident) = self.ident(self.i) {
                let start = self.i;
                let village = self.detail.community.is_some();
                let before = Before::of(&self.cs[name_start..start], village);
                if self.place(ident, before) {
                    self.close_name(name_start, start, &mut named);
                    name_start = self.i;
                    named = true;
                    continue;
                }
            }
            self.i += 1;
        }
        if !named {
            self.close_name(name_start, self.cs.len(), &mut named);
        }
    }

    /// A run of name text before a building or unit names the compound.
    fn close_name(&mut self, start: usize, end: usize, named: &mut bool) {
        if self.detail.compound.is_some() || *named || end <= start {
            return;
        }
        let name = self.collect(start, end);
        let useful = name.chars().filter(|c| !c.is_ascii_digit()).count() >= 2;
        if useful {
            self.detail.compound = Some(name);
            *named = true;
        }
    }

    /// Assigns an identifier by its marker; false when it is part of a name.
    fn place(&mut self, ident: Ident, before: Before) -> bool {
        let after = &self.cs[ident.end..];
        let text = ident.text();
        let marker = |markers: Suffixes| markers.iter().find(|m| begins(after, m)).map(|m| m.len());
        let building_marker = marker(BUILDING_MARKERS);
        let more_after_hao = begins(after, &['号']) && self.ident(ident.end + 1).is_some();
        let d = &mut self.detail;
        // A dash inside (负三楼 is "-3", a floor below ground, not two parts).
        let dashed = text.get(1..).is_some_and(|t| t.contains('-'));
        if dashed && building_marker.is_none() {
            let parts: Vec<&str> = text.split('-').filter(|p| !p.is_empty()).collect();
            if parts.iter().any(|p| p.len() > 5) {
                return false;
            }
            if let (Some(len), [b, u]) = (marker(UNIT_MARKERS), parts.as_slice()) {
                d.building.get_or_insert_with(|| b.to_string());
                d.unit = Some(u.to_string());
                self.i = ident.end + len;
                return true;
            }
            let suffix = marker(&[&['号'], &['室']]);
            let (consumed, marked) = (ident.end + suffix.unwrap_or(0), suffix.is_some());
            // 横峙村7-53号 (X号附X号) is one house number, as on a road.
            let house_number = starts_with_chars(after, "号")
                && parts.len() == 2
                && before == Before::Other
                && d.road_number.is_none()
                && d.building.is_none()
                && d.floor.is_none();
            if house_number {
                d.road_number = Some(format!("{text}号"));
                self.i = consumed;
                return true;
            }
            let known = d.building.is_some() || d.floor.is_some();
            let whole_room = match parts.as_slice() {
                // 605-606室, 378-379号, 1179-1180: a range of rooms or stalls.
                [a, b] => is_range(a, b) || (known && is_room_and_sub_number(a, b)),
                _ => false,
            };
            if whole_room {
                d.room.get_or_insert_with(|| text.to_owned());
                self.i = consumed;
                return true;
            }
            match (parts.as_slice(), d.building.is_some()) {
                ([b, u, f, r], false) => {
                    d.building = Some(b.to_string());
                    d.unit = Some(u.to_string());
                    d.floor = Some(f.to_string());
                    d.room = Some(r.to_string());
                }
                ([b, u, r], false) => {
                    d.building = Some(b.to_string());
                    d.unit = Some(u.to_string());
                    d.room = Some(r.to_string());
                }
                ([u, r], true) if d.unit.is_none() => {
                    d.unit = Some(u.to_string());
                    d.room = Some(r.to_string());
                }
                // 碧水苑63-36: two short numbers are building and unit.
                ([b, u], false) if !marked && b.len() <= 2 && u.len() <= 2 && is_number(b) => {
                    d.building = Some(b.to_string());
                    d.unit = Some(u.to_string());
                }
                ([b, r], false) => {
                    d.building = Some(b.to_string());
                    d.room = Some(r.to_string());
                }
                _ => {
                    d.room.get_or_insert_with(|| text.to_owned());
                }
            }
            self.i = consumed;
            return true;
        }
        if let Some(len) = building_marker {
            if d.building.is_none() {
                d.building = Some(text.to_owned());
            } else {
                d.unit.get_or_insert_with(|| text.to_owned());
            }
            self.i = ident.end + len;
            return true;
        }
        if let Some(len) = marker(UNIT_MARKERS) {
            d.unit = Some(text.to_owned());
            self.i = ident.end + len;
            return true;
        }
        if let Some(len) = marker(ROOM_MARKERS) {
            if let Some((building, room)) = split_building_room(text) {
                d.building.get_or_insert_with(|| building.to_owned());
                d.room = Some(room.to_owned());
                self.i = ident.end + len;
                return true;
            }
            d.room = Some(text.to_owned());
            self.i = ident.end + len;
            return true;
        }
        if let Some(len) = marker(FLOOR_MARKERS) {
            // 149楼11单元: a 楼 followed by a unit is the building.
            let unit_follows = self.unit_at(ident.end + len);
            let d = &mut self.detail;
            if unit_follows && d.building.is_none() {
                d.building = Some(text.to_owned());
            } else {
                d.floor = Some(text.to_owned());
            }
            self.i = ident.end + len;
            return true;
        }
        if starts_with_chars(after, "号") {
            if ["大街", "路", "街", "线"]
                .iter()
                .any(|r| starts_with_chars(&after[1..], r))
            {
                return false;
            }
            // 97号门 is a gate of a market, a name (8号门市部 is not).
            if after.get(1) == Some(&'门') && after.get(2) != Some(&'市') {
                return false;
            }
            // 号 numbers a house on a road or in a village, a building in a
            // lane (弄) or a compound (up to three digits: more is a room or
            // house), a unit once the building is known (a room when it has four
            // digits), then a room.
            let in_lane = d.road_number.as_deref().is_some_and(|n| n.ends_with('弄'));
            // 83幢1227号: four digits after a building number a room, not a unit.
            if d.unit.is_some() || d.floor.is_some() || (d.building.is_some() && text.len() >= 4) {
                d.room.get_or_insert_with(|| text.to_owned());
            } else if d.building.is_some() {
                d.unit = Some(text.to_owned());
            } else if in_lane || (before == Before::Compound && text.len() <= 3) {
                d.building = Some(text.to_owned());
            } else if before == Before::Market {
                d.room.get_or_insert_with(|| text.to_owned());
            } else if d.road_number.is_none() {
                d.road_number = Some(format!("{text}号"));
            } else if text.len() <= 3 && more_after_hao {
                // 477号6号895, 89号泰衡大楼3号10F: a second 号 with a floor or
                // room after it numbers the building.
                d.building = Some(text.to_owned());
            } else {
                d.room.get_or_insert_with(|| text.to_owned());
            }
            self.i = ident.end + 1;
            return true;
        }
        // 十楼七街41234: the lanes (街) of a market floor are its units.
        if begins(after, &['街']) {
            if d.floor.is_none() || d.unit.is_some() {
                return false;
            }
            d.unit = Some(text.to_owned());
            self.i = ident.end + 1;
            return true;
        }
        if let Some(floor) = text
            .strip_suffix('F')
            .filter(|f| !f.is_empty() && is_number(f))
        {
            d.floor = Some(floor.to_owned());
            self.i = ident.end;
            return true;
        }
        // A bare number is a room when it looks like one: 3 to 5 digits, or
        // any number once a building, unit or floor is known; 8区, 13组团 and
        // 速8酒店 are names.
        let digits = text.chars().filter(char::is_ascii_digit).count();
        let known = d.building.is_some() || d.unit.is_some() || d.floor.is_some();
        let names_follow = after.first().is_some_and(|c| NAME_AFTER_NUMBER.contains(c));
        let letters = text.len() - digits;
        if let Some((building, room)) = split_building_room(text) {
            if d.building.is_none() && d.room.is_none() {
                d.building = Some(building.to_owned());
                d.room = Some(room.to_owned());
                self.i = ident.end + marker(ROOM_MARKERS).unwrap_or(0);
                return true;
            }
        }
        // B3 or C38 alone names a building; A1183 (more digits) is a stall or room.
        let short_block = split_letter_number(text).is_some_and(|(_, n)| n.len() <= 2);
        // (After a floor it is a room: 109楼A22.)
        if short_block && d.building.is_none() && d.floor.is_none() && !names_follow {
            d.building = Some(text.to_owned());
            self.i = ident.end;
            return true;
        }
        let in_lane = d.road_number.as_deref().is_some_and(|n| n.ends_with('弄'));
        if in_lane && d.building.is_none() && digits > 0 && letters == 0 {
            d.building = Some(text.to_owned());
            self.i = ident.end;
            return true;
        }
        // Two letters may lead a stall number (DA1176).
        if digits > 0
            && digits <= 5
            && (letters <= 1
                || (letters == 2 && digits >= 3 && text.as_bytes()[1].is_ascii_alphabetic()))
            && (digits >= 3 || known)
            && !names_follow
            && d.room.is_none()
        {
            d.room = Some(text.to_owned());
            self.i = ident.end;
            return true;
        }
        false
    }

    /// An identifier at `i`: `A12`, `3`, `12-3-501`, `B`, or a Chinese numeral
    /// followed by a marker (三栋, 二单元, 九楼).
    fn ident(&self, i: usize) -> Option<Ident> {
        let cs = self.cs;
        let first = *cs.get(i)?;
        if i > 0 && cs[i - 1].is_ascii_alphanumeric() {
            return None;
        }
        if first == '负' {
            let inner = self.ident(i + 1)?;
            let mut negative = Ident::new(inner.end);
            let fits = negative.push('-') && inner.text().chars().all(|c| negative.push(c));
            return fits.then_some(negative);
        }
        if is_chinese_digit(first) {
            let mut end = i;
            while end < cs.len() && is_chinese_digit(cs[end]) && end - i < 4 {
                end += 1;
            }
            let after = &cs[end..];
            let marked = [BUILDING_MARKERS, UNIT_MARKERS, FLOOR_MARKERS, ROOM_MARKERS]
                .iter()
                .flat_map(|m| m.iter())
                .any(|m| **m != ['#'] && **m != ['F'] && begins(after, m))
                || begins(after, &['街']);
            if !marked {
                return None;
            }
            let mut ident = Ident::new(end);
            return ident
                .push_number(chinese_number(&cs[i..end])?)
                .then_some(ident);
        }
        if !first.is_ascii_alphanumeric() {
            return None;
        }
        let mut end = i;
        while end < cs.len() && (cs[end].is_ascii_alphanumeric() || (cs[end] == '-' && end > i)) {
            end += 1;
        }
        let mut ident = Ident::new(end);
        let (mut has_digit, mut letters) = (false, 0);
        for &c in &cs[i..end] {
            has_digit |= c.is_ascii_digit();
            letters += usize::from(c.is_ascii_alphabetic());
            if !ident.push(c) {
                return None;
            }
        }
        if (!has_digit && letters > 1) || letters > 3 {
            return None;
        }
        Some(ident)
    }

    /// Whether a unit (2单元, 二单元) starts at `i`.
    fn unit_at(&self, i: usize) -> bool {
        self.ident(i).is_some_and(|ident| {
            UNIT_MARKERS
                .iter()
                .any(|m| begins(&self.cs[ident.end..], m))
        })
    }

    /// "5组", "三组": a village group, which the labels count as the road.
    fn numbered_group(&self, i: usize) -> Option<usize> {
        let end = self.digits_at(i).or_else(|| {
            let mut e = i;
            while e < self.cs.len() && is_chinese_digit(self.cs[e]) {
                e += 1;
            }
            (e > i).then_some(e)
        })?;
        (self.cs.get(end) == Some(&'组')).then_some(end + 1)
    }

    fn digits_at(&self, i: usize) -> Option<usize> {
        let mut end = i;
        while end < self.cs.len()
            && (self.cs[end].is_ascii_digit()
                || (self.cs[end] == '-'
                    && end > i
                    && self.cs.get(end + 1).is_some_and(char::is_ascii_digit)))
        {
            end += 1;
        }
        (end > i).then_some(end)
    }

    /// End of the shortest name of 2..=max chars from `start` ending in a suffix.
    fn name_ending(
        &self,
        start: usize,
        suffixes: Suffixes,
        max: usize,
        digits: bool,
    ) -> Option<usize> {
        let [end] = self.name_endings(start, [suffixes], max, digits);
        end
    }

    /// [`Self::name_ending`] for several suffix sets in one pass.
    fn name_endings<const N: usize>(
        &self,
        start: usize,
        sets: [Suffixes; N],
        max: usize,
        digits: bool,
    ) -> [Option<usize>; N] {
        let mut found = [None; N];
        let mut open = N;
        let limit = (start + max).min(self.cs.len());
        let mut end = start;
        while end < limit && open > 0 {
            let c = self.cs[end];
            let allowed = is_cjk(c) || (digits && c.is_ascii_alphanumeric() && end > start);
            if !allowed || c == '号' || c == '栋' || c == '幢' {
                break;
            }
            // 国际商贸城八楼九街: a floor inside ends any name (钟楼路 is a road).
            if (c == '楼' || c == '层') && end > start {
                let before = self.cs[end - 1];
                if before.is_ascii_digit() || is_chinese_digit(before) {
                    break;
                }
            }
            end += 1;
            if end - start < 2 || !is_suffix_end(c) {
                continue;
            }
            let name = &self.cs[start..end];
            for (slot, suffixes) in found.iter_mut().zip(sets) {
                if slot.is_none() && self.ends_in_suffix(name, end, suffixes) {
                    *slot = Some(end);
                    open -= 1;
                }
            }
        }
        found
    }

    /// Whether `name` (ending at `end`) ends in one of `suffixes`, and not in a
    /// shorter form of a longer one that follows (街 of 街道, 社区 of 社区居委会).
    fn ends_in_suffix(&self, name: &[char], end: usize, suffixes: Suffixes) -> bool {
        suffixes.iter().any(|suffix| {
            if !(name.len() > suffix.len() && ends(name, suffix)) {
                return false;
            }
            let rest = &self.cs[end - suffix.len()..];
            let longer = suffixes
                .iter()
                .any(|s| s.len() > suffix.len() && begins(s, suffix) && begins(rest, s));
            let street_office = *suffix == ['街'] && self.cs.get(end) == Some(&'道');
            !(longer || street_office)
        })
    }

    fn ends_with_at(&self, end: usize, suffix: &str) -> bool {
        let n = char_len(suffix);
        end >= n && self.cs[end - n..end].iter().copied().eq(suffix.chars())
    }

    fn skip_separators(&mut self) {
        while self.cs.get(self.i) == Some(&SEPARATOR) {
            self.i += 1;
        }
    }

    fn collect(&self, start: usize, end: usize) -> String {
        let mut out = String::with_capacity((end - start) * 3);
        out.extend(self.cs[start..end].iter().filter(|c| **c != SEPARATOR));
        out
    }
}

/// A `String` of the characters, allocated once at its final size.
pub(crate) fn chars_to_string(cs: &[char]) -> String {
    let mut out = String::with_capacity(cs.iter().map(|c| c.len_utf8()).sum());
    out.extend(cs);
    out
}

/// Whether `c` ends some township, community or road suffix, so that most
/// positions are passed over without comparing suffixes.
fn is_suffix_end(c: char) -> bool {
    matches!(
        c,
        '道' | '处' | '办' | '镇' | '乡' | '会' | '区' | '村' | '街' | '路' | '同' | '巷'
    )
}

/// Whether `cs` starts with `word`. Markers and suffixes are one to five
/// characters: a plain loop beats the `memcmp` call `<[char]>::starts_with` makes.
pub(crate) fn begins(cs: &[char], word: &[char]) -> bool {
    word.len() <= cs.len() && word.iter().zip(cs).all(|(a, b)| a == b)
}

/// Whether `cs` ends with `word` (see [`begins`]).
fn ends(cs: &[char], word: &[char]) -> bool {
    word.len() <= cs.len() && word.iter().rev().zip(cs.iter().rev()).all(|(a, b)| a == b)
}

fn starts_with_chars(cs: &[char], s: &str) -> bool {
    let mut it = cs.iter();
    s.chars().all(|c| it.next() == Some(&c))
}

/// Characters in a marker or suffix; these are short, so count without a general loop.
fn char_len(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else if s.bytes().all(|b| b >= 0x80) {
        s.len() / 3
    } else {
        s.chars().count()
    }
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x3134F)
}

fn is_number(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_digit())
}

pub(crate) fn is_chinese_digit(c: char) -> bool {
    matches!(
        c,
        '零' | '〇'
            | '一'
            | '二'
            | '两'
            | '三'
            | '四'
            | '五'
            | '六'
            | '七'
            | '八'
            | '九'
            | '十'
            | '百'
    )
}

/// 三 → 3, 十二 → 12, 二十 → 20, 一百零五 → 105; `None` for anything else.
pub(crate) fn chinese_number(cs: &[char]) -> Option<u32> {
    let digit = |c: char| match c {
        '零' | '〇' => Some(0),
        '一' => Some(1),
        '二' | '两' => Some(2),
        '三' => Some(3),
        '四' => Some(4),
        '五' => Some(5),
        '六' => Some(6),
        '七' => Some(7),
        '八' => Some(8),
        '九' => Some(9),
        _ => None,
    };
    if cs.is_empty() {
        return None;
    }
    let mut total = 0u32;
    let mut current = 0u32;
    let mut seen_unit = false;
    for &c in cs {
        match c {
            '十' => {
                total += current.max(1) * 10;
                current = 0;
                seen_unit = true;
            }
            '百' => {
                total += current.max(1) * 100;
                current = 0;
                seen_unit = true;
            }
            _ => {
                let d = digit(c)?;
                current = if seen_unit { d } else { current * 10 + d };
            }
        }
    }
    Some(total + current)
}

/// The identifier inside a building, unit, floor or room label: "3栋" → "3",
/// "三单元" → "3", "b座" → "B", "1193室" → "1193". Used to compare labels.
pub fn identifier(text: &str) -> String {
    let upper: String = text
        .chars()
        .map(|c| match c as u32 {
            0xFF01..=0xFF5E => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .map(|c| c.to_ascii_uppercase())
        .filter(|c| !c.is_whitespace())
        .collect();
    let cs: Vec<char> = upper.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < cs.len() {
        if is_chinese_digit(cs[i]) {
            let start = i;
            while i < cs.len() && is_chinese_digit(cs[i]) {
                i += 1;
            }
            match chinese_number(&cs[start..i]) {
                Some(n) => out.push_str(&n.to_string()),
                None => out.extend(&cs[start..i]),
            }
            continue;
        }
        if cs[i].is_ascii_alphanumeric() || cs[i] == '-' {
            out.push(cs[i]);
        }
        i += 1;
    }
    if out.len() > 1 && out.ends_with('F') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_str(text: &str, want_township: bool) -> Detail {
        scan(&text.chars().collect::<Vec<_>>(), want_township)
    }

    #[test]
    fn chinese_numbers() {
        let n = |s: &str| chinese_number(&s.chars().collect::<Vec<_>>());
        assert_eq!(n("三"), Some(3));
        assert_eq!(n("十二"), Some(12));
        assert_eq!(n("二十"), Some(20));
        assert_eq!(n("一百零五"), Some(105));
        assert_eq!(n("九"), Some(9));
    }

    #[test]
    fn identifiers_drop_markers() {
        assert_eq!(identifier("3栋"), "3");
        assert_eq!(identifier("三单元"), "3");
        assert_eq!(identifier("b座"), "B");
        assert_eq!(identifier("1193室"), "1193");
        assert_eq!(identifier("8F"), "8");
    }

    #[test]
    fn building_unit_room_forms() {
        let d = scan_str("绿杨榭公寓31-1-101", false);
        assert_eq!(d.compound.as_deref(), Some("绿杨榭公寓"));
        assert_eq!(
            (d.building.as_deref(), d.unit.as_deref(), d.room.as_deref()),
            (Some("31"), Some("1"), Some("101"))
        );
        let d = scan_str("泰和小区B栋1097", false);
        assert_eq!(d.compound.as_deref(), Some("泰和小区"));
        assert_eq!(d.building.as_deref(), Some("B"));
        assert_eq!(d.room.as_deref(), Some("1097"));
        let d = scan_str("某小区三栋2单元501室", false);
        assert_eq!(
            (d.building.as_deref(), d.unit.as_deref(), d.room.as_deref()),
            (Some("3"), Some("2"), Some("501"))
        );
        let d = scan_str("B懂302", false);
        assert_eq!(d.building.as_deref(), Some("B"));
        let d = scan_str("3号楼5层", false);
        assert_eq!(
            (d.building.as_deref(), d.floor.as_deref()),
            (Some("3"), Some("5"))
        );
        let d = scan_str("3幢", false);
        assert_eq!(d.building.as_deref(), Some("3"));
    }

    #[test]
    fn roads_numbers_and_lanes() {
        let d = scan_str("同普路1501弄166号2224室", false);
        assert_eq!(d.road.as_deref(), Some("同普路"));
        assert_eq!(d.road_number.as_deref(), Some("1501弄"));
        assert_eq!(d.building.as_deref(), Some("166"));
        assert_eq!(d.room.as_deref(), Some("2224"));
        let d = scan_str("高新路10号5栋14楼", false);
        assert_eq!(d.road_number.as_deref(), Some("10号"));
        assert_eq!(
            (d.building.as_deref(), d.floor.as_deref()),
            (Some("5"), Some("14"))
        );
    }

    #[test]
    fn hao_after_a_compound_numbers_a_building() {
        let d = scan_str("泾西小区198号", false);
        assert_eq!((d.building.as_deref(), d.road_number), (Some("198"), None));
        let d = scan_str("瓜山东苑346号", false);
        assert_eq!(d.building.as_deref(), Some("346"));
        let d = scan_str("文一西路1394号淘宝城12号邮局", false);
        assert_eq!(d.road_number.as_deref(), Some("1394号"));
        assert_eq!((d.building.as_deref(), d.room), (Some("12"), None));
        // A compound named after its village is still a compound; 盛都花苑中区 a block.
        let d = scan_str("经西村泾西小区198号", false);
        assert_eq!(d.community.as_deref(), Some("经西村"));
        assert_eq!(d.building.as_deref(), Some("198"));
        assert_eq!(
            scan_str("盛都花苑中区139号", false).building.as_deref(),
            Some("139")
        );
        // A village's 号 is a house number, a market's a stall.
        let d = scan_str("下沈村107号", false);
        assert_eq!(
            (d.road_number.as_deref(), d.building),
            (Some("107号"), None)
        );
        let d = scan_str("钱江市场8区135号", false);
        assert_eq!((d.room.as_deref(), d.building), (Some("135"), None));
        // 97号门 is a market gate, not a room or building.
        let d = scan_str("国际商贸城5区97号门15街", false);
        assert_eq!((d.room, d.building), (None, None));
    }

    #[test]
    fn a_second_hao_before_a_floor_or_room_is_the_building() {
        let d = scan_str("天目山路477号6号895", false);
        assert_eq!(d.road_number.as_deref(), Some("477号"));
        assert_eq!(
            (d.building.as_deref(), d.room.as_deref()),
            (Some("6"), Some("895"))
        );
        let d = scan_str("至仁路89号泰衡大楼3号10F", false);
        assert_eq!(
            (d.building.as_deref(), d.floor.as_deref(), d.room),
            (Some("3"), Some("10"), None)
        );
    }

    #[test]
    fn two_numbers_after_a_road_or_a_name() {
        let d = scan_str("滨港路17-123号", false);
        assert_eq!(d.road_number.as_deref(), Some("17号"));
        assert_eq!(d.building.as_deref(), Some("123"));
        let d = scan_str("解放路10-145", false);
        assert_eq!(d.road_number.as_deref(), Some("10"));
        assert_eq!(d.building.as_deref(), Some("145"));
        let d = scan_str("东路桥大道806-808号", false);
        assert_eq!(
            (d.road_number.as_deref(), d.building),
            (Some("806-808号"), None)
        );
        let d = scan_str("横峙村7-53号", false);
        assert_eq!(
            (d.road_number.as_deref(), d.building),
            (Some("7-53号"), None)
        );
        let d = scan_str("碧水云天小区碧水苑63-36", false);
        assert_eq!(
            (d.building.as_deref(), d.unit.as_deref(), d.room),
            (Some("63"), Some("36"), None)
        );
        let d = scan_str("雪景公寓13-2021", false);
        assert_eq!(
            (d.building.as_deref(), d.room.as_deref()),
            (Some("13"), Some("2021"))
        );
    }

    #[test]
    fn ranges_and_sub_numbers_are_one_room() {
        let room = |text: &str| scan_str(text, false).room;
        assert_eq!(room("中国人寿大厦605-606室").as_deref(), Some("605-606"));
        let d = scan_str("华东参茸批发市场23-24号", false);
        assert_eq!((d.room.as_deref(), d.building), (Some("23-24"), None));
        assert_eq!(room("锦东家园11幢1703-2").as_deref(), Some("1703-2"));
        assert_eq!(room("福雷德广场11楼207-1").as_deref(), Some("207-1"));
        // Without a building or floor, two numbers stay building and room.
        let d = scan_str("雪景公寓13-2021", false);
        assert_eq!(d.room.as_deref(), Some("2021"));
    }

    #[test]
    fn four_digits_after_a_building_are_a_room() {
        let d = scan_str("香园83幢1227号", false);
        assert_eq!(
            (d.building.as_deref(), d.unit, d.room.as_deref()),
            (Some("83"), None, Some("1227"))
        );
        let d = scan_str("皂墅小区124栋7号", false);
        assert_eq!((d.unit.as_deref(), d.room), (Some("7"), None));
    }

    #[test]
    fn the_lanes_of_a_market_floor_are_units() {
        let d = scan_str("国际商贸城八楼九街48275", false);
        assert_eq!(d.road, None);
        assert_eq!(
            (d.floor.as_deref(), d.unit.as_deref(), d.room.as_deref()),
            (Some("8"), Some("9"), Some("48275"))
        );
        let d = scan_str("国际服装城6楼9街88号", false);
        assert_eq!(
            (d.floor.as_deref(), d.unit.as_deref(), d.room.as_deref()),
            (Some("6"), Some("9"), Some("88"))
        );
        // Without a floor, N街 is part of a name; 钟楼路 is still a road.
        assert_eq!(scan_str("城信二区二街1199号", false).unit, None);
        assert_eq!(
            scan_str("钟楼路734号", false).road.as_deref(),
            Some("钟楼路")
        );
    }

    #[test]
    fn a_floor_below_ground_is_a_floor() {
        let d = scan_str("庆春银泰负三楼桑语专柜", false);
        assert_eq!((d.floor.as_deref(), d.room), (Some("-3"), None));
    }

    #[test]
    fn a_letter_and_one_or_two_digits_name_a_building() {
        assert_eq!(
            scan_str("华领国际B3", false).building.as_deref(),
            Some("B3")
        );
        let d = scan_str("常青服饰市场D2995", false);
        assert_eq!((d.room.as_deref(), d.building), (Some("D2995"), None));
        // After a floor, a letter and digits are a room; two letters may lead a stall.
        let d = scan_str("世贸中心109楼A22", false);
        assert_eq!((d.room.as_deref(), d.building), (Some("A22"), None));
        assert_eq!(
            scan_str("华东国际珠宝城DA1176", false).room.as_deref(),
            Some("DA1176")
        );
    }

    #[test]
    fn township_and_community_lead_the_detail() {
        let d = scan_str("龙港镇泰和小区B栋1097", true);
        assert_eq!(d.township.as_deref(), Some("龙港镇"));
        let d = scan_str("下宅村万里公路832弄125号", false);
        assert_eq!(d.community.as_deref(), Some("下宅村"));
        assert_eq!(d.road.as_deref(), Some("万里公路"));
        assert_eq!(d.road_number.as_deref(), Some("832弄"));
        assert_eq!(d.building.as_deref(), Some("125"));
    }
}
