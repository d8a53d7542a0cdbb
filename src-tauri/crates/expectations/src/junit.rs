//! A [`Report`] as JUnit XML, the test-report format CI systems (GitHub Actions' test
//! reporters, GitLab, Jenkins) show: one `<testsuite>` per project, one `<testcase>` per check,
//! a failure's explanation as its `<failure>` text.

use crate::verdict::Report;

/// The report as a JUnit XML document; `name` names the whole run (e.g. the expectations file).
pub fn junit(report: &Report, name: &str) -> String {
    let total = report.checks().count();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xml.push_str(&format!(
        "<testsuites name=\"{}\" tests=\"{total}\" failures=\"{}\" errors=\"0\">\n",
        escape(name),
        report.failures()
    ));
    for project in &report.projects {
        let failures = project.checks.iter().filter(|c| !c.passed).count();
        let suite = match &project.family {
            Some(family) => format!("{} ({family})", project.project),
            None => project.project.clone(),
        };
        xml.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\">\n",
            escape(&suite),
            project.checks.len()
        ));
        let class = escape(&format!("identity.{}", project.project));
        for check in &project.checks {
            let case = format!("{}: {}", check.kind.as_str(), check.title);
            if check.passed {
                xml.push_str(&format!("    <testcase classname=\"{class}\" name=\"{}\"/>\n", escape(&case)));
                continue;
            }
            // The summary a reporter shows: what is, which says more than what was expected.
            let actual = check.details.iter().find(|d| d.starts_with("actual:")).or(check.details.first());
            let first = actual.map(String::as_str).unwrap_or("failed");
            xml.push_str(&format!("    <testcase classname=\"{class}\" name=\"{}\">\n", escape(&case)));
            xml.push_str(&format!(
                "      <failure message=\"{}\" type=\"{}\">{}</failure>\n",
                escape(first.trim()),
                check.kind.as_str(),
                escape(&check.details.join("\n"))
            ));
            xml.push_str("    </testcase>\n");
        }
        xml.push_str("  </testsuite>\n");
    }
    xml.push_str("</testsuites>\n");
    xml
}

/// Text as XML character data or an attribute value. Characters XML 1.0 cannot hold at all
/// (most control characters, which an id from the wild may carry) become U+FFFD.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\t' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}
