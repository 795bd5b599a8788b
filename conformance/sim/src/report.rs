//! Scenario results and how they are written: a text table for the terminal, JUnit
//! XML for CI, and JSON for anything else.

use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

/// How a scenario ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The core behaved as the spec says.
    Pass,
    /// It did not.
    Fail,
    /// Not run (e.g. no home-network public key for a SUCI profile).
    Skip,
}

impl Verdict {
    /// `PASS`, `FAIL`, `SKIP`.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::Skip => "SKIP",
        }
    }
}

/// One scenario's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    /// Scenario name.
    pub name: String,
    /// Verdict.
    pub verdict: Verdict,
    /// Wall time.
    #[serde(serialize_with = "millis")]
    pub time: Duration,
    /// What was seen, or why it failed.
    pub detail: String,
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64() * 1000.0)
}

/// The results of one run.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Report {
    /// The AMF address tested.
    pub amf: String,
    /// The transport (udp, kernel).
    pub transport: String,
    /// The outcomes, in run order.
    pub outcomes: Vec<Outcome>,
}

impl Report {
    /// How many passed, failed, skipped.
    pub fn counts(&self) -> (usize, usize, usize) {
        let n = |v| self.outcomes.iter().filter(|o| o.verdict == v).count();
        (n(Verdict::Pass), n(Verdict::Fail), n(Verdict::Skip))
    }

    /// Whether nothing failed.
    pub fn passed(&self) -> bool {
        self.counts().1 == 0
    }

    /// The text table: scenario, result, time, detail.
    pub fn table(&self) -> String {
        let width = self.outcomes.iter().map(|o| o.name.len()).max().unwrap_or(8).max(8);
        let mut s = String::new();
        let _ = writeln!(s, "{:<width$}  {:<6}  {:>9}  detail", "scenario", "result", "time");
        let _ = writeln!(s, "{}", "-".repeat(width + 30));
        for o in &self.outcomes {
            let _ = writeln!(
                s,
                "{:<width$}  {:<6}  {:>7.1}ms  {}",
                o.name,
                o.verdict.label(),
                o.time.as_secs_f64() * 1000.0,
                o.detail
            );
        }
        let (p, f, k) = self.counts();
        let _ = writeln!(s, "{p} passed, {f} failed, {k} skipped");
        s
    }

    /// JUnit XML (the schema Jenkins and GitLab read).
    pub fn junit(&self) -> String {
        let (_, failures, skipped) = self.counts();
        let total: f64 = self.outcomes.iter().map(|o| o.time.as_secs_f64()).sum();
        let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            s,
            "<testsuite name=\"hexcore-conformance\" tests=\"{}\" failures=\"{failures}\" skipped=\"{skipped}\" time=\"{total:.3}\">",
            self.outcomes.len()
        );
        let _ = writeln!(
            s,
            "  <properties><property name=\"amf\" value=\"{}\"/><property name=\"transport\" value=\"{}\"/></properties>",
            xml_escape(&self.amf),
            xml_escape(&self.transport)
        );
        for o in &self.outcomes {
            let _ = write!(
                s,
                "  <testcase classname=\"conformance\" name=\"{}\" time=\"{:.3}\"",
                xml_escape(&o.name),
                o.time.as_secs_f64()
            );
            match o.verdict {
                Verdict::Pass => {
                    let _ = writeln!(s, "><system-out>{}</system-out></testcase>", xml_escape(&o.detail));
                }
                Verdict::Fail => {
                    let _ = writeln!(s, "><failure message=\"{}\"/></testcase>", xml_escape(&o.detail));
                }
                Verdict::Skip => {
                    let _ = writeln!(s, "><skipped message=\"{}\"/></testcase>", xml_escape(&o.detail));
                }
            }
        }
        s.push_str("</testsuite>\n");
        s
    }

    /// JSON.
    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> Report {
        Report {
            amf: "127.0.0.1:9899".into(),
            transport: "udp".into(),
            outcomes: vec![
                Outcome {
                    name: "ng-setup".into(),
                    verdict: Verdict::Pass,
                    time: Duration::from_millis(3),
                    detail: "AMF \"amf<1>\"".into(),
                },
                Outcome {
                    name: "registration-suci-null".into(),
                    verdict: Verdict::Fail,
                    time: Duration::from_millis(1500),
                    detail: "timeout & no accept".into(),
                },
                Outcome {
                    name: "registration-suci-profile-a".into(),
                    verdict: Verdict::Skip,
                    time: Duration::ZERO,
                    detail: "no key".into(),
                },
            ],
        }
    }

    #[test]
    fn junit_counts_and_escapes() {
        let x = report().junit();
        assert!(x.contains("tests=\"3\" failures=\"1\" skipped=\"1\""));
        assert!(x.contains("AMF &quot;amf&lt;1&gt;&quot;"));
        assert!(x.contains("<failure message=\"timeout &amp; no accept\"/>"));
        assert!(x.contains("<skipped message=\"no key\"/>"));
        assert_eq!(x.matches("<testcase").count(), 3);
    }

    #[test]
    fn json_and_table() {
        let r = report();
        let v: serde_json::Value = serde_json::from_str(&r.json()).unwrap();
        assert_eq!(v["outcomes"][1]["verdict"], "fail");
        assert_eq!(v["outcomes"][1]["time"], 1500.0);
        let t = r.table();
        assert!(t.contains("registration-suci-null"));
        assert!(t.ends_with("1 passed, 1 failed, 1 skipped\n"));
        assert!(!r.passed());
    }
}
