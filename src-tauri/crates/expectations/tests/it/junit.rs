//! The JUnit report is well-formed XML that a CI reporter reads: counts, one case per check, a
//! failure's explanation as its text, and ids with markup or control characters escaped.

use expectations::{evaluate, junit, parse, Format};
use quick_xml::events::Event;
use quick_xml::{Reader, XmlVersion};

use crate::fake::Inspector;

#[test]
fn junit_counts_cases_and_escapes_what_ids_carry() {
    let mut inspector =
        Inspector::posthog().person("a<b>&\"c'", &["a<b>&\"c'", "user\u{1}1"], true).person("other", &["other"], true);
    let text = "project: phc_test\npersons:\n  - [\"a<b>&\\\"c'\", \"user\\u00011\"]\n  - [\"a<b>&\\\"c'\", other]\n";
    let report = evaluate(&parse(text, Format::Yaml, &|_| None).unwrap(), &mut inspector).unwrap();
    let xml = junit(&report, "expect <ci>.yaml");
    let mut reader = Reader::from_str(&xml);
    let (mut suites, mut cases, mut failures, mut failure_text) = (0, 0, 0, String::new());
    let mut in_failure = false;
    loop {
        match reader.read_event().unwrap_or_else(|e| panic!("not XML at {}: {e}\n{xml}", reader.buffer_position())) {
            Event::Start(e) | Event::Empty(e) => {
                let name = e.name().as_ref().to_owned();
                for attribute in e.attributes() {
                    attribute.unwrap().normalized_value(XmlVersion::Implicit1_0).unwrap();
                }
                match name.as_str() {
                    "testsuite" => suites += 1,
                    "testcase" => cases += 1,
                    "failure" => {
                        failures += 1;
                        in_failure = true;
                    }
                    _ => {}
                }
            }
            Event::Text(t) if in_failure => failure_text.push_str(&t.xml10_content()),
            Event::GeneralRef(r) if in_failure => {
                let name = r.into_inner();
                failure_text.push_str(match name.as_ref() {
                    "lt" => "<",
                    "gt" => ">",
                    "amp" => "&",
                    "quot" => "\"",
                    "apos" => "'",
                    "#10" => "\n",
                    other => panic!("unexpected reference {other}"),
                });
            }
            Event::End(e) if e.name().as_ref() == "failure" => in_failure = false,
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!((suites, cases, failures), (1, 3, 1), "{xml}");
    assert!(xml.contains("<testsuites name=\"expect &lt;ci&gt;.yaml\" tests=\"3\" failures=\"1\""), "{xml}");
    assert!(xml.contains("name=\"phc_test (posthog)\""), "{xml}");
    assert!(failure_text.starts_with("expected: one person holding a<b>&\"c' and other\n"), "{failure_text}");
    assert!(!xml.contains('\u{1}'), "a control character cannot be in XML");
    assert!(xml.contains("user\u{FFFD}1"), "{xml}");
}
