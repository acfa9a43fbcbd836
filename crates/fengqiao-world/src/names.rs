//! Names as people in a Chengdu district use them: synthetic people, and
//! compounds, communities and roads in the forms found on real plates.
//! Nothing here is a real person; the lists are common words and the most
//! frequent surnames.

use std::collections::BTreeSet;

use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// The most common surnames, most frequent first; earlier ones are drawn
/// more often.
const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "林", "罗", "高", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾",
    "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡", "余", "杜", "叶", "程", "苏", "魏", "吕", "丁",
    "任", "沈", "姚", "卢", "姜", "崔", "钟", "谭", "陆", "汪", "范", "廖",
];

const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀英", "霞", "平", "刚", "桂英", "建华", "建国", "志强", "国平", "小红", "晓东", "玉兰",
    "海燕", "文", "斌", "宇", "浩", "婷", "雪", "琳", "鹏", "辉", "红梅", "德明", "丹", "燕", "倩",
    "俊", "凯", "梅", "淑珍", "子涵", "欣怡", "雨萱", "浩然", "思远", "佳怡", "晨", "瑶",
];

/// Words that name places in Chengdu compounds and communities.
const PLACE_WORDS: &[&str] = &[
    "锦绣", "蜀汉", "桐梓", "金兰", "紫荆", "翠柳", "芙蓉", "浣花", "望江", "清水", "双楠", "丽都",
    "龙腾", "金色", "翠微", "桂馨", "梧桐", "紫薇", "南苑", "康华", "银杏", "兴蓉", "棕北", "玉带",
    "磨子", "文昌", "永丰", "高升", "百花", "红星", "锦官", "青羊", "武阳", "竹林", "荷花", "枫林",
    "福锦", "长寿", "幸福", "和平", "团结", "新光", "金沙", "蓝天", "碧水", "聚福", "锦城", "蜀锦",
    "桂溪", "石羊", "簇锦", "晋阳", "红牌", "盛隆", "万寿", "安康", "怡和", "顺江", "凤凰", "明月",
    "星辰", "云锦", "华府", "春熙", "秋水", "翡翠", "嘉禾", "瑞祥", "丰泽", "荣华",
];

/// Compound forms, in rough proportion to how often they occur.
const COMPOUND_SUFFIXES: &[(&str, u32)] = &[
    ("小区", 5),
    ("花园", 4),
    ("苑", 3),
    ("家园", 2),
    ("新村", 2),
];

const ROAD_SUFFIXES: &[(&str, u32)] = &[("路", 6), ("街", 4), ("巷", 2), ("大道", 1)];

fn weighted<'a>(rng: &mut ChaCha8Rng, items: &'a [(&'a str, u32)]) -> &'a str {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut pick = rng.gen_range(0..total);
    for (item, weight) in items {
        if pick < *weight {
            return item;
        }
        pick -= weight;
    }
    unreachable!("pick is below the total")
}

/// A person's full name: frequent surnames more often.
pub fn person(rng: &mut ChaCha8Rng) -> String {
    // The square skews the draw towards the head of the list.
    let r: f64 = rng.gen();
    let surname = SURNAMES[((r * r) * SURNAMES.len() as f64) as usize];
    let given = GIVEN.choose(rng).expect("non-empty");
    format!("{surname}{given}")
}

/// A mainland mobile number.
pub fn phone(rng: &mut ChaCha8Rng) -> String {
    const PREFIXES: &[&str] = &[
        "138", "139", "135", "136", "150", "158", "186", "187", "177", "199",
    ];
    let prefix = PREFIXES.choose(rng).expect("non-empty");
    format!("{prefix}{:08}", rng.gen_range(0..100_000_000u32))
}

/// Hands out names that are unique within one town.
#[derive(Default)]
pub struct UniqueNames {
    taken: BTreeSet<String>,
}

impl UniqueNames {
    /// Reserves a name given from outside (a real street's name).
    pub fn reserve(&mut self, name: &str) {
        self.taken.insert(name.to_owned());
    }

    fn draw(&mut self, rng: &mut ChaCha8Rng, make: impl Fn(&mut ChaCha8Rng) -> String) -> String {
        for _ in 0..64 {
            let name = make(rng);
            if self.taken.insert(name.clone()) {
                return name;
            }
        }
        // Every short form is taken (a very large town): number them.
        let base = make(rng);
        (2..)
            .map(|n| format!("{base}{n}期"))
            .find(|name| self.taken.insert(name.clone()))
            .expect("an unbounded range finds a free name")
    }

    /// 锦绣花园, 桐梓苑, 芙蓉新村…
    pub fn compound(&mut self, rng: &mut ChaCha8Rng) -> String {
        self.draw(rng, |rng| {
            let word = PLACE_WORDS.choose(rng).expect("non-empty");
            format!("{word}{}", weighted(rng, COMPOUND_SUFFIXES))
        })
    }

    /// 银杏社区
    pub fn community(&mut self, rng: &mut ChaCha8Rng) -> String {
        self.draw(rng, |rng| {
            format!("{}社区", PLACE_WORDS.choose(rng).expect("non-empty"))
        })
    }

    /// 高升桥路, 永丰街, 文昌巷…
    pub fn road(&mut self, rng: &mut ChaCha8Rng) -> String {
        self.draw(rng, |rng| {
            let word = PLACE_WORDS.choose(rng).expect("non-empty");
            let middle = ["", "", "桥", "北", "南", "东", "西"].choose(rng).copied();
            format!(
                "{word}{}{}",
                middle.unwrap_or(""),
                weighted(rng, ROAD_SUFFIXES)
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn names_look_like_names_and_do_not_repeat() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut names = UniqueNames::default();
        let compounds: Vec<String> = (0..300).map(|_| names.compound(&mut rng)).collect();
        let distinct: BTreeSet<&String> = compounds.iter().collect();
        assert_eq!(distinct.len(), compounds.len());
        for name in &compounds {
            assert!(
                COMPOUND_SUFFIXES.iter().any(|(s, _)| name.contains(s)),
                "{name}"
            );
        }
        let person = person(&mut rng);
        assert!((2..=4).contains(&person.chars().count()), "{person}");
        let phone = phone(&mut rng);
        assert_eq!(phone.len(), 11);
        assert!(phone.starts_with('1'));
    }
}
