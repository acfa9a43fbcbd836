//! What triage and threat detection promise, case by case.

use std::sync::OnceLock;

use fengqiao_triage::{
    triage_lines, CategoryTable, Group, RouteTo, TableError, ThreatDetector, Triage,
    DEFAULT_CATEGORIES_TOML,
};
use proptest::prelude::*;

fn triage() -> &'static Triage {
    static TRIAGE: OnceLock<Triage> = OnceLock::new();
    TRIAGE.get_or_init(Triage::default)
}

fn threats() -> &'static ThreatDetector {
    static THREATS: OnceLock<ThreatDetector> = OnceLock::new();
    THREATS.get_or_init(ThreatDetector::default)
}

#[test]
fn default_table_has_about_forty_categories_in_two_groups() {
    let table = CategoryTable::default();
    let police = table
        .categories
        .iter()
        .filter(|c| c.group == Group::Police)
        .count();
    let non_police = table.categories.len() - police;
    assert!((38..=50).contains(&table.categories.len()));
    assert!(police >= 15 && non_police >= 15, "{police} / {non_police}");
}

#[test]
fn a_fight_goes_to_the_command_room_and_names_its_words() {
    let s = triage().suggest("有人在小区门口打架");
    assert_eq!(s.category, "fight");
    assert_eq!(s.group, Group::Police);
    assert_eq!(s.route_to, RouteTo::CommandRoom);
    assert_eq!(s.priority, 1);
    assert!(s
        .matched
        .iter()
        .any(|m| m.word == "打架" && m.category == "fight"));
    assert!(s.confidence > 0.0);
}

#[test]
fn negated_words_do_not_count_and_are_shown_as_negated() {
    for text in [
        "没有打架，就是邻居吵了几句",
        "他没打人，两家邻居吵架",
        "邻居之间并未动手，也不是打架",
    ] {
        let s = triage().suggest(text);
        assert_eq!(s.group, Group::NonPolice, "{text}: {s:?}");
        assert_eq!(s.category, "neighbour_dispute", "{text}");
    }
    let s = triage().suggest("没有打架");
    assert!(s.negated.iter().any(|m| m.word == "打架"));
    assert!(!s.matched.iter().any(|m| m.word == "打架"));
}

#[test]
fn negation_ends_with_its_clause() {
    let s = triage().suggest("没有喝酒，但是他们在门口打架");
    assert_eq!(s.category, "fight");
    let s = triage().suggest("车没事，人没受伤，两辆车在路口追尾了");
    assert_eq!(s.category, "traffic_accident");
}

#[test]
fn a_refusal_is_not_a_negation() {
    // 不给算工伤: the factory refuses the injury claim; the claim is the case.
    assert_eq!(
        triage().suggest("厂里不给算工伤").category,
        "labour_dispute"
    );
    assert!(threats()
        .detect("他不承认说过要弄死你")
        .iter()
        .any(|m| m.word == "弄死你"));
}

#[test]
fn not_fraud_is_not_fraud() {
    let s = triage().suggest("不是诈骗，我就是想问问补办身份证要带什么");
    assert_eq!(s.category, "consultation");
    assert!(s.negated.iter().any(|m| m.word == "诈骗"));
}

#[test]
fn danger_to_a_person_outranks_a_civil_dispute() {
    let s = triage().suggest("老板拖欠工资不给，我们去要，他拿刀出来砍人");
    assert_eq!(s.group, Group::Police);
    assert_eq!(s.category, "assault");
    assert_eq!(s.priority, 1);
    let s = triage().suggest("老板拖欠我们三个月工资不给");
    assert_eq!(s.category, "wage_arrears");
    assert_eq!(s.route_to, RouteTo::LabourInspection);
}

#[test]
fn a_gas_smell_is_urgent_and_goes_to_emergency() {
    let s = triage().suggest("楼道里好大一股煤气味");
    assert_eq!(s.category, "gas_leak");
    assert_eq!(s.group, Group::NonPolice);
    assert_eq!(s.route_to, RouteTo::Emergency);
    assert_eq!(s.priority, 1);
}

#[test]
fn an_absence_that_is_the_complaint_is_not_negation() {
    assert_eq!(
        triage().suggest("我们楼没水了，也没有通知").category,
        "water_supply"
    );
    assert_eq!(
        triage().suggest("老板一直不给工资").category,
        "wage_arrears"
    );
    assert_eq!(
        triage().suggest("路灯不亮，晚上没有路灯太黑了").category,
        "street_light"
    );
}

#[test]
fn words_inside_other_words_do_not_fire() {
    // 抢修 is a repair, not a robbery; 刀削面 is noodles.
    let s = triage().suggest("门口自来水管爆了，正在抢修，刀削面馆被淹了");
    assert_eq!(s.category, "water_supply");
    assert!(!s.matched.iter().any(|m| m.word == "抢" || m.word == "刀"));
}

#[test]
fn nothing_matched_is_other_for_the_governance_centre() {
    for text in ["你好", "……", "abc 123", "今天天气不错"] {
        let s = triage().suggest(text);
        assert_eq!(s.category, "other", "{text}");
        assert_eq!(s.group, Group::NonPolice);
        assert_eq!(s.route_to, RouteTo::GovernanceCentre);
        assert_eq!(s.confidence, 0.0);
    }
}

#[test]
fn threat_words_are_found_with_their_rule_and_place() {
    let text = "他说要弄死对方";
    let found = threats().detect(text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].word, "弄死");
    assert_eq!(found[0].rule, "threat_to_kill");
    assert_eq!(&text[found[0].start..found[0].end], "弄死");

    assert!(threats().detect("没有说要打人").is_empty());
    assert!(threats().detect("他并没有拿刀，就是嗓门大").is_empty());

    let found = threats().detect("他喝了酒说不想活了，要跟对方同归于尽");
    let rules: Vec<_> = found.iter().map(|m| m.rule.as_str()).collect();
    assert_eq!(rules, ["self_harm", "desperation"]);

    let found = threats().detect("再不还钱我就杀了你，放火烧了你家");
    let words: Vec<_> = found.iter().map(|m| m.word.as_str()).collect();
    assert_eq!(words, ["杀了你", "放火", "烧了你家"]);
}

#[test]
fn an_assault_reported_is_not_a_threat_to_kill() {
    // The caller says who hit them and that he is still there: a police
    // incident, handled as one; nobody threatened anything.
    assert!(threats()
        .detect("我被人打了，脸上流血了，打人的还在门口")
        .is_empty());
    assert!(threats().detect("有人打人了，快来").is_empty());
    // Saying one will hit someone is a threat, negation still understood.
    let found = threats().detect("他喝了酒扬言要打人");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].rule, "threat_to_kill");
    assert_eq!(threats().detect("他说明天还要打人")[0].word, "要打人");
    assert!(threats().detect("没有说要打人").is_empty());
}

#[test]
fn harmless_phrases_hide_threat_words() {
    assert!(threats().detect("楼下刀削面馆跳楼价甩卖").is_empty());
    assert!(threats().detect("他天天拼命工作").is_empty());
    assert_eq!(threats().detect("他说要跳楼")[0].rule, "self_harm");
}

#[test]
fn lines_in_give_json_lines_out_in_order() {
    let input = "有人在小区门口打架\n\n闻到很浓的煤气味\r\n";
    let mut out = Vec::new();
    triage_lines(triage(), input.as_bytes(), &mut out).unwrap();
    let lines: Vec<serde_json::Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["category"], "fight");
    assert_eq!(lines[0]["group"], "police");
    assert_eq!(lines[0]["route_to"], "command_room");
    assert_eq!(lines[0]["priority"], 1);
    assert!(lines[0]["matched"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["word"] == "打架" && m["category"] == "fight"));
    assert!(lines[1]["error"].is_string());
    assert_eq!(lines[2]["category"], "gas_leak");
    assert_eq!(lines[2]["group"], "non_police");
}

#[test]
fn invalid_utf8_lines_get_an_error_object() {
    let mut out = Vec::new();
    triage_lines(triage(), &b"\xff\xfe\n"[..], &mut out).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert!(v["error"].is_string());
}

#[test]
fn a_custom_table_is_used_and_checked() {
    let table = CategoryTable::from_toml(
        r#"
        [[category]]
        code = "noise"
        name_zh = "噪声"
        name_en = "Noise"
        group = "non_police"
        class = "environment"
        priority = 3
        route_to = "environment"
        accept_minutes = 60
        finish_minutes = 1440
        words = { "噪音" = 2 }

        [[category]]
        code = "other"
        name_zh = "其他"
        name_en = "Other"
        group = "non_police"
        class = "other"
        priority = 4
        route_to = "governance_centre"
        accept_minutes = 60
        finish_minutes = 1440
        "#,
    )
    .unwrap();
    let triage = Triage::new(table).unwrap();
    assert_eq!(triage.suggest("楼上噪音很大").category, "noise");
    assert_eq!(triage.suggest("打架").category, "other");

    let broken = DEFAULT_CATEGORIES_TOML.replace("code = \"other\"", "code = \"misc\"");
    assert!(matches!(
        CategoryTable::from_toml(&broken),
        Err(TableError::NoFallback)
    ));
    let broken = DEFAULT_CATEGORIES_TOML.replace("priority = 4", "priority = 9");
    assert!(matches!(
        CategoryTable::from_toml(&broken),
        Err(TableError::BadPriority { .. })
    ));
    let broken = DEFAULT_CATEGORIES_TOML
        .replace("route_to = \"command_room\"", "route_to = \"environment\"");
    assert!(matches!(
        CategoryTable::from_toml(&broken),
        Err(TableError::PoliceNotToCommandRoom { .. })
    ));
    assert!(matches!(
        CategoryTable::from_toml("nonsense ="),
        Err(TableError::Toml(_))
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn never_panics_on_any_text(text in any::<String>()) {
        let s = triage().suggest(&text);
        prop_assert!((1..=4).contains(&s.priority));
        prop_assert!((0.0..=1.0).contains(&s.confidence));
        for m in threats().detect(&text) {
            prop_assert!(text.is_char_boundary(m.start) && text.is_char_boundary(m.end));
        }
    }

    #[test]
    fn never_panics_on_chinese_with_rule_words(
        parts in proptest::collection::vec(
            prop_oneof![
                proptest::sample::select(vec![
                    "没有", "不是", "打架", "刀", "，", "停水", "没", "弄死你", "抢修", "欠薪",
                    " ", "\u{0}",
                ])
                .prop_map(str::to_owned),
                "[\u{4e00}-\u{9fa5}]{0,4}",
            ],
            0..40,
        )
    ) {
        let text: String = parts.concat();
        let s = triage().suggest(&text);
        prop_assert!(!s.category.is_empty());
        let _ = threats().detect(&text);
    }
}

#[test]
fn very_long_text_is_bounded() {
    let text = "有人打架，".repeat(20_000);
    assert_eq!(triage().suggest(&text).category, "fight");
}
