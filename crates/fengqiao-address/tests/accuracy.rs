//! Accuracy on the real labelled data in ../shared/eval/address (never copied
//! into the repository). Skips with a message when the files are absent.
//! Tuning looks at ncap_dev and the two case files only; ncap_test is reported
//! by `fengqiao bench resolve`.

use std::path::PathBuf;

use fengqiao_address::eval::{self, Field};
use fengqiao_address::Resolver;
use serde::Deserialize;

fn eval_file(name: &str) -> Option<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/eval/address")
        .join(name);
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(_) => {
            println!("skipped: {} is absent", path.display());
            None
        }
    }
}

#[test]
fn ncap_dev_accuracy() {
    let Some(text) = eval_file("ncap_dev.jsonl") else {
        return;
    };
    let cases = eval::parse_labelled(&text).expect("ncap_dev parses");
    let resolver = Resolver::new();
    let accuracy = eval::accuracy(&resolver, &cases);
    for field in Field::ALL {
        println!("ncap_dev {:<9} {:.3}", field.name(), accuracy.of(field));
    }
    if std::env::var_os("FENGQIAO_EVAL_ERRORS").is_some() {
        for case in &cases {
            let address = resolver.resolve(&case.text);
            for field in Field::ALL {
                if !eval::field_agrees(&address, case, field) {
                    println!(
                        "MISS {:<9} {} | label {:?} | ours {:?}",
                        field.name(),
                        case.text,
                        case.labels(field),
                        eval::predicted(&address, field).map(|p| p.0)
                    );
                }
            }
        }
    }
    let floors = [
        (Field::Province, 0.97),
        (Field::City, 0.95),
        (Field::County, 0.92),
        (Field::Township, 0.80),
        (Field::Building, 0.85),
        (Field::Unit, 0.90),
        (Field::Room, 0.88),
    ];
    for (field, floor) in floors {
        assert!(
            accuracy.of(field) >= floor,
            "{} fell to {:.3}",
            field.name(),
            accuracy.of(field)
        );
    }
}

#[derive(Deserialize)]
struct JionlpCase {
    text: String,
    expected: JionlpExpected,
}

#[derive(Deserialize)]
struct JionlpExpected {
    province: Option<String>,
    city: Option<String>,
    county: Option<String>,
}

#[test]
fn jionlp_cases() {
    let Some(text) = eval_file("jionlp_location_cases.jsonl") else {
        return;
    };
    let resolver = Resolver::new();
    let (mut right, mut total) = (0, 0);
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let case: JionlpCase = serde_json::from_str(line).expect("case parses");
        let ours = resolver.resolve(&case.text);
        let got = (
            ours.province.clone(),
            ours.city.clone(),
            ours.county.clone(),
        );
        let want = (
            case.expected.province,
            case.expected.city,
            case.expected.county,
        );
        total += 1;
        if got == want {
            right += 1;
        } else {
            println!("jionlp miss: {} want {want:?} got {got:?}", case.text);
        }
    }
    println!("jionlp cases: {right}/{total}");
    assert!(right * 10 >= total * 6, "{right}/{total}");
}

#[derive(Deserialize)]
struct GeocodingCase {
    text: String,
    expected: Option<GeocodingExpected>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GeocodingExpected {
    province_id: Option<u64>,
    city_id: Option<u64>,
    district_id: Option<u64>,
    building_num: Option<String>,
}

#[test]
fn geocoding_normalizing_cases() {
    let Some(text) = eval_file("geocoding_normalizing_cases.jsonl") else {
        return;
    };
    let resolver = Resolver::new();
    let (mut right, mut total) = (0, 0);
    let six = |id: Option<u64>| id.map(|id| (id / 1_000_000).to_string());
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let case: GeocodingCase = serde_json::from_str(line).expect("case parses");
        let Some(expected) = case.expected else {
            continue;
        };
        let ours = resolver.resolve(&case.text);
        let want = (
            six(expected.province_id),
            six(expected.city_id),
            six(expected.district_id),
        );
        let got = (
            ours.province_code.clone(),
            ours.city_code.clone(),
            ours.county_code.clone(),
        );
        total += 1;
        if got == want {
            right += 1;
        } else {
            println!("geocoding miss: {} want {want:?} got {got:?}", case.text);
        }
        if let Some(building) = expected
            .building_num
            .filter(|b| b.matches('-').count() == 2)
        {
            let parts: Vec<&str> = building.split('-').collect();
            assert_eq!(ours.building.as_deref(), Some(parts[0]), "{}", case.text);
            assert_eq!(ours.room.as_deref(), Some(parts[2]), "{}", case.text);
        }
    }
    println!("geocoding cases: {right}/{total}");
    assert!(right * 10 >= total * 6, "{right}/{total}");
}
