//! Line breaking for address text, shared by the SVG and the PDF.

/// Breaks `text` into lines no wider than `max_width`, preferring the spaces
/// between address levels and breaking inside a level only when it alone is
/// too wide (Chinese has no spaces between words, so any character will do).
pub(crate) fn wrap(text: &str, max_width: f32, width_of: impl Fn(char) -> f32) -> Vec<String> {
    let measure = |s: &str| s.chars().map(&width_of).sum::<f32>();
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let candidate = if line.is_empty() {
            word.to_string()
        } else {
            format!("{line} {word}")
        };
        if measure(&candidate) <= max_width {
            line = candidate;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        for c in word.chars() {
            if !line.is_empty() && measure(&line) + width_of(c) > max_width {
                lines.push(std::mem::take(&mut line));
            }
            line.push(c);
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// An estimate for text whose font is chosen by the viewer: CJK characters
/// are square, Latin ones about half as wide.
pub(crate) fn estimated_em(c: char) -> f32 {
    if c.is_ascii() {
        0.6
    } else {
        1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breaks_between_levels_first_then_inside_one() {
        let lines = wrap("成都市武侯区浆洗街街道 锦里小区 3栋", 8.0, estimated_em);
        assert_eq!(lines, ["成都市武侯区浆洗", "街街道 锦里小区", "3栋"]);
        assert_eq!(wrap("锦里小区 3栋", 20.0, estimated_em), ["锦里小区 3栋"]);
        assert!(wrap("   ", 5.0, estimated_em).is_empty());
    }
}
