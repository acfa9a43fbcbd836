//! The forms people really type (issue 3), resolved end to end.

use std::sync::OnceLock;

use fengqiao_address::{Level, ResolvedAddress, Resolver};
use proptest::prelude::*;

fn resolver() -> &'static Resolver {
    static RESOLVER: OnceLock<Resolver> = OnceLock::new();
    RESOLVER.get_or_init(Resolver::new)
}

fn resolve(text: &str) -> ResolvedAddress {
    resolver().resolve(text)
}

fn codes(a: &ResolvedAddress) -> (Option<&str>, Option<&str>, Option<&str>, Option<&str>) {
    (
        a.province_code.as_deref(),
        a.city_code.as_deref(),
        a.county_code.as_deref(),
        a.township_code.as_deref(),
    )
}

fn ids(a: &ResolvedAddress) -> (Option<&str>, Option<&str>, Option<&str>) {
    (a.building.as_deref(), a.unit.as_deref(), a.room.as_deref())
}

#[test]
fn the_issue_example() {
    let a = resolve("浙江省嘉兴市秀洲区嘉州美都194栋2064商铺");
    assert_eq!(a.province.as_deref(), Some("浙江省"));
    assert_eq!(a.city.as_deref(), Some("嘉兴市"));
    assert_eq!(a.county.as_deref(), Some("秀洲区"));
    assert_eq!(
        codes(&a),
        (Some("330000"), Some("330400"), Some("330411"), None)
    );
    assert_eq!(a.compound.as_deref(), Some("嘉州美都"));
    assert_eq!(a.building.as_deref(), Some("194"));
    assert_eq!(a.room.as_deref(), Some("2064"));
    assert_eq!(a.confidence, 1.0);
}

#[test]
fn missing_levels_are_inferred() {
    let a = resolve("成都武侯区浆洗街某小区3栋2单元501");
    assert_eq!(a.province.as_deref(), Some("四川省"));
    assert_eq!(a.city.as_deref(), Some("成都市"));
    assert_eq!(a.county_code.as_deref(), Some("510107"));
    assert_eq!(a.township.as_deref(), Some("浆洗街街道"));
    assert_eq!(a.township_code.as_deref(), Some("510107001"));
    assert_eq!(ids(&a), (Some("3"), Some("2"), Some("501")));

    let a = resolve("龙港镇泰和小区B栋1097");
    assert_eq!(a.township.as_deref(), Some("龙港镇"));
    assert_eq!(a.compound.as_deref(), Some("泰和小区"));
    assert_eq!(ids(&a), (Some("B"), None, Some("1097")));
}

#[test]
fn short_names_and_aliases() {
    assert_eq!(resolve("成都").city.as_deref(), Some("成都市"));
    let a = resolve("内蒙赤峰");
    assert_eq!(a.province.as_deref(), Some("内蒙古自治区"));
    assert_eq!(a.city.as_deref(), Some("赤峰市"));
    assert_eq!(
        resolve("广西南宁").province.as_deref(),
        Some("广西壮族自治区")
    );
    let a = resolve("成都武侯浆洗街");
    assert_eq!(a.township.as_deref(), Some("浆洗街街道"));
}

#[test]
fn old_names_resolve_to_current_divisions() {
    let a = resolve("湖北省襄樊市小水街222号");
    assert_eq!(a.city.as_deref(), Some("襄阳市"));
    assert_eq!(a.road.as_deref(), Some("小水街"));
    assert_eq!(a.road_number.as_deref(), Some("222号"));
    let a = resolve("柳州地区忻城县");
    assert_eq!(a.city.as_deref(), Some("来宾市"));
    assert_eq!(a.county_code.as_deref(), Some("451321"));
    assert_eq!(resolve("思茅市").city.as_deref(), Some("普洱市"));
    let a = resolve("宁波市江东区金家一路");
    assert_eq!(a.county.as_deref(), Some("鄞州区"));
    assert_eq!(
        a.mention(Level::County).map(|m| m.text.as_str()),
        Some("江东区")
    );
    assert_eq!(resolve("杭州富阳市").county.as_deref(), Some("富阳区"));
    assert_eq!(resolve("上海市川沙区").county.as_deref(), Some("浦东新区"));
    let a = resolve("安微凤台县朱马店镇徐王村");
    assert_eq!(a.province.as_deref(), Some("安徽省"));
    assert_eq!(a.county.as_deref(), Some("凤台县"));
    // A township moved to another county keeps its former county as written,
    // even when the text names the township twice.
    let a = resolve("大仓盖镇河北省张家口市宣化县大仓盖镇圆通快递");
    assert_eq!(a.township.as_deref(), Some("大仓盖镇"));
    assert_eq!(
        a.mention(Level::County).map(|m| m.text.as_str()),
        Some("宣化县")
    );
}

#[test]
fn ambiguous_names_offer_alternatives() {
    let a = resolve("朝阳区");
    assert_eq!(a.county.as_deref(), Some("朝阳区"));
    assert!(a.confidence < 0.5);
    let codes: Vec<&str> = std::iter::once(a.county_code.as_deref().unwrap())
        .chain(a.alternatives.iter().map(|alt| alt.code.as_str()))
        .collect();
    assert!(
        codes.contains(&"110105") && codes.contains(&"220104"),
        "{codes:?}"
    );

    let a = resolve("长春市朝阳区");
    assert_eq!(a.county_code.as_deref(), Some("220104"));
    assert!(a.alternatives.is_empty());
    assert_eq!(resolve("北京朝阳区").county_code.as_deref(), Some("110105"));
}

#[test]
fn building_forms() {
    for (text, building) in [
        ("某小区3栋", "3"),
        ("某小区3幢", "3"),
        ("某小区3号楼", "3"),
        ("某小区三栋", "3"),
        ("某小区B栋", "B"),
        ("某小区B懂", "B"),
        ("某小区十二幢", "12"),
    ] {
        assert_eq!(resolve(text).building.as_deref(), Some(building), "{text}");
    }
}

#[test]
fn building_unit_room_forms() {
    assert_eq!(
        ids(&resolve("绿杨榭公寓31-1-101")),
        (Some("31"), Some("1"), Some("101"))
    );
    assert_eq!(
        ids(&resolve("某小区2单元501")),
        (None, Some("2"), Some("501"))
    );
    assert_eq!(resolve("某大厦501室").room.as_deref(), Some("501"));
    assert_eq!(
        ids(&resolve("拱北小区永安坊12一7一944")),
        (Some("12"), Some("7"), Some("944"))
    );
    let a = resolve("某小区5幢3单元8楼802室");
    assert_eq!(ids(&a), (Some("5"), Some("3"), Some("802")));
    assert_eq!(a.floor.as_deref(), Some("8"));
}

#[test]
fn full_width_spaces_and_punctuation() {
    let a = resolve("浙江省-金华市-义乌市");
    assert_eq!(
        codes(&a),
        (Some("330000"), Some("330700"), Some("330782"), None)
    );
    let a = resolve("浙江省　金华市　义乌市　某小区３栋２单元５０１");
    assert_eq!(a.county_code.as_deref(), Some("330782"));
    assert_eq!(ids(&a), (Some("3"), Some("2"), Some("501")));
    assert_eq!(resolve("某小区Ｂ栋").building.as_deref(), Some("B"));
}

#[test]
fn repeated_levels_and_remarks() {
    let a = resolve("重庆重庆大足区中国重庆重庆大足区双塔路【碧玉江南10-20-1】(大足汽车站附近)");
    assert_eq!(a.province.as_deref(), Some("重庆市"));
    assert_eq!(a.city.as_deref(), Some("重庆市"));
    assert_eq!(a.county_code.as_deref(), Some("500111"));
    assert_eq!(a.road.as_deref(), Some("双塔路"));
    assert_eq!(a.compound.as_deref(), Some("碧玉江南"));
    assert_eq!(ids(&a), (Some("10"), Some("20"), Some("1")));

    let a = resolve("湖南衡阳常宁市湖南省衡阳市常宁市泉峰街道泉峰街道消防大队南园小区A栋1单元601");
    assert_eq!(a.county.as_deref(), Some("常宁市"));
    assert_eq!(a.township.as_deref(), Some("泉峰街道"));
    assert_eq!(ids(&a), (Some("A"), Some("1"), Some("601")));

    let a = resolve("新疆和田墨玉县墨玉县公安局（县委附近）");
    assert_eq!(a.county.as_deref(), Some("墨玉县"));
}

#[test]
fn lanes_and_house_numbers() {
    let a = resolve("上海市普陀区同普路1501弄166号2224室");
    assert_eq!(a.city.as_deref(), Some("上海市"));
    assert_eq!(a.county.as_deref(), Some("普陀区"));
    assert_eq!(a.road_number.as_deref(), Some("1501弄"));
    assert_eq!(ids(&a), (Some("166"), None, Some("2224")));
}

#[test]
fn a_county_name_inside_a_road_or_a_longer_name_is_not_a_county() {
    assert_eq!(resolve("中山路12号").city, None);
    assert_eq!(
        resolve("温州市鹿城区下吕浦").county.as_deref(),
        Some("鹿城区")
    );
    assert_eq!(resolve("湖南省长沙市").county, None);
}

#[test]
fn a_short_county_name_before_a_numbered_road_or_a_mountain_is_not_a_county() {
    assert_eq!(resolve("经济开发区兴平一路2296号").county, None);
    assert_eq!(resolve("江南四区163-14-319").county, None);
    assert_eq!(resolve("白云山名苑11幢4单元871").county, None);
    assert_eq!(resolve("九龙湖长石三星工业区").county, None);
    // 马山市场路 is a market road, not 马山县 written with 市.
    assert_eq!(resolve("马山市场路8幢9单元953").county, None);
    assert_eq!(resolve("马山县").county.as_deref(), Some("马山县"));
    // A city's or province's short name before 湖 or 山 still counts.
    let a = resolve("浙江湖州南浔东马路1049号");
    assert_eq!(a.province.as_deref(), Some("浙江省"));
    assert_eq!(a.city.as_deref(), Some("湖州市"));
    assert_eq!(resolve("金华山口工业区").city.as_deref(), Some("金华市"));
    // A full county name keeps its meaning whatever follows.
    assert_eq!(resolve("白云区白云山").county.as_deref(), Some("白云区"));
}

#[test]
fn a_short_county_name_that_begins_a_zone_or_estate_name_alone_is_not_a_county() {
    // The 滨海 zones of Zhejiang are not Tianjin's 滨海新区, 东洲花园 is not Fushun's 东洲区.
    assert_eq!(resolve("滨海工业园3道9路路口").county, None);
    assert_eq!(resolve("东洲花园观山苑17栋8单元609").county, None);
    assert_eq!(resolve("城东经济开发区卧龙路951号").county, None);
    // With its city named, the county stands.
    assert_eq!(
        resolve("杭州桐庐经济开发区白云源东路1760号")
            .county
            .as_deref(),
        Some("桐庐县")
    );
    // The full name stands on its own.
    assert_eq!(
        resolve("秀洲区工业园区洪业路1658号").county.as_deref(),
        Some("秀洲区")
    );
}

#[test]
fn resolver_is_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Resolver>();
    let handles: Vec<_> = (0..2)
        .map(|_| std::thread::spawn(|| resolve("浙江省杭州市西湖区").county_code))
        .collect();
    for handle in handles {
        assert_eq!(handle.join().unwrap().as_deref(), Some("330106"));
    }
}

#[test]
fn serialises_with_the_issue_field_names() {
    let json = serde_json::to_value(resolve("浙江省嘉兴市秀洲区嘉州美都194栋2064商铺")).unwrap();
    for field in [
        "province",
        "city",
        "county",
        "township",
        "community",
        "road",
        "road_number",
        "compound",
        "building",
        "unit",
        "floor",
        "room",
        "province_code",
        "city_code",
        "county_code",
        "township_code",
        "confidence",
        "alternatives",
    ] {
        assert!(json.get(field).is_some(), "{field}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn never_panics_on_any_string(text in any::<String>()) {
        let a = resolver().resolve(&text);
        prop_assert!((0.0..=1.0).contains(&a.confidence));
    }

    #[test]
    fn never_panics_on_address_like_text(
        text in "[省市区县镇乡街道路号栋幢单元室楼层村社区小区花园0-9A-Za-z０-９\\-—_（）()【】 #浙江杭州西湖朝阳北京一二三十]{0,40}"
    ) {
        let a = resolver().resolve(&text);
        prop_assert!((0.0..=1.0).contains(&a.confidence));
    }
}
