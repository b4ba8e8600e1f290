//! The timeline page: one HTML file with its styles, its script and the
//! run's data inside, so it opens offline and can be attached to a CI run.

use super::Timeline;

const PAGE: &str = include_str!("page.html");

/// The page of `timeline`.
pub fn page(timeline: &Timeline) -> String {
    let data = serde_json::to_string(timeline).unwrap_or_else(|_| "{}".into());
    // Inside a <script> element no `</script` or `<!--` may appear: JSON
    // has `<` only inside strings, where `\u003c` reads the same.
    let data = data.replace('<', "\\u003c");
    PAGE.replacen("{{TITLE}}", &escape(&timeline.title), 1)
        .replacen("{{DATA}}", &data, 1)
}

/// A page linking each scenario's page: `(name, file, passed)`.
pub fn index(title: &str, entries: &[(String, String, bool)]) -> String {
    let mut rows = String::new();
    for (name, file, passed) in entries {
        let (class, word) = if *passed {
            ("pass", "PASS")
        } else {
            ("fail", "FAIL")
        };
        rows.push_str(&format!(
            "<li class=\"{class}\"><span>{word}</span> <a href=\"{}\">{}</a></li>\n",
            escape(file),
            escape(name)
        ));
    }
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title>\
         <style>body{{font:14px system-ui,sans-serif;margin:16px}}li{{margin:4px 0}}\
         .pass span{{color:#137333}}.fail span{{color:#b3261e;font-weight:600}}</style></head>\
         <body><h1>{t}</h1><ul>\n{rows}</ul></body></html>\n",
        t = escape(title)
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_in_the_data_can_end_or_escape_its_script() {
        let hostile = "<!--<script></script>";
        let timeline = Timeline {
            title: hostile.into(),
            seed: 1,
            nodes: vec![],
            events: vec![],
            crossings: vec![],
            faults: vec![],
            failures: vec![hostile.into()],
            omitted: 0,
        };
        let html = page(&timeline);
        assert_eq!(html.matches("</script>").count(), 2);
        assert!(!html.contains("<!--"));
        let script = html.split("id=\"data\">").nth(1).unwrap();
        let json = script.split("</script>").next().unwrap();
        let data: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(data["title"], hostile);
    }
}
