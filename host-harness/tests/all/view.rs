//! A run's timeline, drawn: the HTML page (its data, and, in headless
//! Chromium, what it renders and shows when a message is selected) and the
//! Chrome trace.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;
use host_harness::view::{chrome_trace, page, Timeline};
use host_harness::{run, RunOptions};

/// The template's run with its timeline, drawn.
async fn template_timeline() -> Timeline {
    let mut options = RunOptions::new(workspace());
    options.timeline = true;
    let report = run(&options).await.unwrap();
    Timeline::of_report("the template", &report, report.check_failures())
}

const PARENT: &str = "parent:spawn:template.os";
const CHILD: &str = "spawned-child-process:spawn:template.os";

#[tokio::test(flavor = "multi_thread")]
async fn the_timeline_has_every_lane_and_message_of_the_template() {
    let timeline = template_timeline().await;
    let lanes: Vec<&str> = timeline.nodes[0].lanes.iter().map(String::as_str).collect();
    assert!(
        lanes.contains(&"fake.os@parent:spawn:template.os"),
        "{lanes:?}"
    );
    assert!(
        lanes.contains(&"fake.os@spawned-child-process:spawn:template.os"),
        "{lanes:?}"
    );
    let json = serde_json::to_value(&timeline.events).unwrap();
    let read = json
        .as_array()
        .unwrap()
        .iter()
        .find(|e| {
            e["kind"] == "message"
                && e["to"] == "fake.os@vfs:distro:sys"
                && e["body"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("child.wasm")
        })
        .expect("the spawn's read of child.wasm through vfs");
    assert_eq!(read["from"], "fake.os@parent:spawn:template.os");
    // The page carries the same data, and nothing that would end its script.
    let html = page(&timeline);
    assert!(html.contains("child.wasm"));
    assert_eq!(html.matches("</script>").count(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_chrome_trace_names_each_process_a_thread_and_each_message_a_flow() {
    let trace: serde_json::Value =
        serde_json::from_str(&chrome_trace(&template_timeline().await)).unwrap();
    let events = trace["traceEvents"].as_array().unwrap();
    let threads: Vec<&str> = events
        .iter()
        .filter(|e| e["name"] == "thread_name")
        .filter_map(|e| e["args"]["name"].as_str())
        .collect();
    assert!(
        threads.contains(&PARENT) && threads.contains(&CHILD),
        "{threads:?}"
    );
    let starts = events.iter().filter(|e| e["ph"] == "s").count();
    let ends = events.iter().filter(|e| e["ph"] == "f").count();
    assert!(
        starts > 0 && starts == ends,
        "{starts} flows started, {ends} ended"
    );
}

/// Headless Chromium, if the machine has it (`make test-browser` installs
/// Debian's).
fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("HOST_HARNESS_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ]
    .into_iter()
    .map(PathBuf::from)
    .find(|p| p.is_file())
}

/// The page's DOM after its script ran, with `hash` in its address.
fn rendered(browser: &Path, page: &Path, hash: &str) -> String {
    let url = format!("file://{}#{hash}", page.display());
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--virtual-time-budget=5000",
            "--window-size=1400,900",
            "--dump-dom",
        ])
        .arg(&url)
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Chromium: `make test-browser` installs it and runs this"]
async fn in_chromium_the_page_draws_the_lanes_and_shows_the_selected_read_with_its_exact_id() {
    let browser = chromium().expect("chromium (apt install chromium, or HOST_HARNESS_CHROMIUM)");
    let dir = temp_dir("timeline");
    let file = dir.join("template.html");
    let timeline = template_timeline().await;
    std::fs::write(&file, page(&timeline)).unwrap();
    let json = serde_json::to_value(&timeline.events).unwrap();
    let read_id = json
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "message" && e["to"] == "fake.os@vfs:distro:sys")
        .map(|e| e["id"].as_str().expect("ids are text").to_string())
        .unwrap();
    // A real click on the read of child.wasm: its body shows in the panel.
    let click = "click=g[data-kind='request'][data-to='fake.os@vfs:distro:sys']";
    let dom = rendered(&browser, &file, click);
    for lane in [PARENT, CHILD] {
        assert!(
            dom.contains(&format!("data-process=\"{lane}\"")),
            "no lane for {lane}"
        );
    }
    assert!(
        dom.contains("data-from=\"fake.os@parent:spawn:template.os\"")
            && dom.contains("data-to=\"fake.os@vfs:distro:sys\""),
        "no arrow from parent to vfs"
    );
    let details = &dom[dom.find("id=\"details\"").expect("a details panel")..];
    assert!(
        details.contains("child.wasm") && details.contains("Read") && details.contains(&read_id),
        "the selected message's body is not shown: {}",
        &details[..details.len().min(2000)]
    );
}
