//! The demo's calls are in words triage understands: nearly every text
//! lands in its own group and category, so the history a newcomer sees has
//! about the proportions the generator meant. The misses are printed: they
//! are triage's (a caller's words can be ambiguous), and the demo keeps
//! them, as operators meet them and override.

use fengqiao_triage::Triage;
use fengqiao_world::calls::sample_texts;

#[test]
fn every_call_text_is_triaged_to_its_group_and_nearly_all_to_their_category() {
    let triage = Triage::default();
    let texts = sample_texts(1);
    let (mut wrong_group, mut wrong_category) = (Vec::new(), Vec::new());
    for (category, text) in &texts {
        let suggestion = triage.suggest(text);
        let meant = triage
            .table()
            .categories
            .iter()
            .find(|c| c.code == *category)
            .unwrap_or_else(|| panic!("{category} is not in the category table"));
        let miss = format!("{text}: meant {category}, got {}", suggestion.category);
        if suggestion.group != meant.group {
            wrong_group.push(miss.clone());
        }
        if suggestion.category != *category {
            wrong_category.push(miss);
        }
    }
    let share = |misses: &Vec<String>| 1.0 - misses.len() as f64 / texts.len() as f64;
    let (group, category) = (share(&wrong_group), share(&wrong_category));
    println!(
        "{} texts, group accuracy {group:.3}, category accuracy {category:.3}",
        texts.len()
    );
    for miss in &wrong_category {
        println!("  {miss}");
    }
    assert!(group >= 0.95, "wrong group: {wrong_group:#?}");
    assert!(category >= 0.9, "{wrong_category:#?}");
}
