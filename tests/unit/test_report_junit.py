"""JUnit export: counts, messages and shape, checked by parsing and against a JUnit XSD."""

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from labctl.report.junit import to_junit

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "results"

# The Ant/Jenkins JUnit shape CI systems read (after the common junit-4/junit-10 XSDs): required
# suite and case attributes, one optional failure|error|skipped per case, timestamp without a zone.
JUNIT_XSD = b"""<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" elementFormDefault="qualified">
  <xs:element name="testsuite" type="testsuite"/>
  <xs:simpleType name="timestamp">
    <xs:restriction base="xs:dateTime">
      <xs:pattern value="[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"/>
    </xs:restriction>
  </xs:simpleType>
  <xs:complexType name="problem">
    <xs:simpleContent>
      <xs:extension base="xs:string">
        <xs:attribute name="message" type="xs:string"/>
        <xs:attribute name="type" type="xs:string" use="required"/>
      </xs:extension>
    </xs:simpleContent>
  </xs:complexType>
  <xs:complexType name="testsuite">
    <xs:sequence>
      <xs:element name="properties" minOccurs="0">
        <xs:complexType>
          <xs:sequence>
            <xs:element name="property" minOccurs="0" maxOccurs="unbounded">
              <xs:complexType>
                <xs:attribute name="name" type="xs:string" use="required"/>
                <xs:attribute name="value" type="xs:string" use="required"/>
              </xs:complexType>
            </xs:element>
          </xs:sequence>
        </xs:complexType>
      </xs:element>
      <xs:element name="testcase" minOccurs="0" maxOccurs="unbounded">
        <xs:complexType>
          <xs:sequence>
            <xs:choice minOccurs="0">
              <xs:element name="skipped" type="problem"/>
              <xs:element name="error" type="problem"/>
              <xs:element name="failure" type="problem"/>
            </xs:choice>
            <xs:element name="system-out" type="xs:string" minOccurs="0"/>
            <xs:element name="system-err" type="xs:string" minOccurs="0"/>
          </xs:sequence>
          <xs:attribute name="name" type="xs:string" use="required"/>
          <xs:attribute name="classname" type="xs:string" use="required"/>
          <xs:attribute name="time" type="xs:decimal" use="required"/>
        </xs:complexType>
      </xs:element>
      <xs:element name="system-out" type="xs:string" minOccurs="0"/>
      <xs:element name="system-err" type="xs:string" minOccurs="0"/>
    </xs:sequence>
    <xs:attribute name="name" type="xs:string" use="required"/>
    <xs:attribute name="tests" type="xs:nonNegativeInteger" use="required"/>
    <xs:attribute name="failures" type="xs:nonNegativeInteger" use="required"/>
    <xs:attribute name="errors" type="xs:nonNegativeInteger" use="required"/>
    <xs:attribute name="skipped" type="xs:nonNegativeInteger"/>
    <xs:attribute name="time" type="xs:decimal" use="required"/>
    <xs:attribute name="timestamp" type="timestamp" use="required"/>
    <xs:attribute name="hostname" type="xs:string" use="required"/>
  </xs:complexType>
</xs:schema>
"""


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture
def results() -> list[dict[str, Any]]:
    return [
        load(n) for n in ("pod-kill-pass.json", "worker-failure-fail.json", "scheduler-down-pass.json", "etcd-backup-restore-error.json")
    ]


def validate_xsd(document: str) -> None:
    schema = etree.XMLSchema(etree.fromstring(JUNIT_XSD))
    schema.assertValid(etree.fromstring(document.encode("utf-8")))


def cases(suite: ET.Element) -> dict[str, ET.Element]:
    return {case.get("name", ""): case for case in suite.iter("testcase")}


def test_suite_counts_time_and_timestamp(results: list[dict[str, Any]]) -> None:
    suite = ET.fromstring(to_junit(results, hostname="ci"))
    assert suite.tag == "testsuite"
    assert suite.get("name") == "labctl drills"
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("4", "1", "1", "0")
    assert float(suite.get("time", "nan")) == pytest.approx(sum(r["duration_s"] for r in results), abs=0.002)
    assert suite.get("timestamp") == "2025-06-14T09:12:03"  # the earliest start, UTC
    assert suite.get("hostname") == "ci"
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert {k: v for k, v in props.items() if not k.startswith("score")} == {
        "lab": "default",
        "provider": "local",
        "kubernetes_version": "v1.33.1",
    }


def test_one_testcase_per_result(results: list[dict[str, Any]]) -> None:
    suite = ET.fromstring(to_junit(results))
    found = list(suite.iter("testcase"))
    assert [c.get("name") for c in found] == [r["drill"] for r in results]
    assert {c.get("classname") for c in found} == {"labctl.drill.default"}
    assert [float(c.get("time", "nan")) for c in found] == [pytest.approx(r["duration_s"], abs=0.001) for r in results]


def test_failure_lists_every_unmet_expectation(results: list[dict[str, Any]]) -> None:
    case = cases(ET.fromstring(to_junit(results)))["worker-failure"]
    failures = case.findall("failure")
    assert len(failures) == 1 and case.find("error") is None
    failure = failures[0]
    worker = results[1]
    unmet = [e for e in worker["expectations"] if not e["met"]]
    assert len(unmet) == 2
    message = failure.get("message", "")
    assert message.startswith("2 of 7 expectations unmet")
    body = failure.text or ""
    for expectation in unmet:
        assert expectation["description"] in message
        assert f"✗ {expectation['description']}" in body
        assert f"expected: {expectation['expected']}" in body
        assert f"observed: {expectation['observed']}" in body
    met = [e for e in worker["expectations"] if e["met"]]
    assert all(e["description"] not in body for e in met)


def test_error_carries_the_result_error(results: list[dict[str, Any]]) -> None:
    case = cases(ET.fromstring(to_junit(results)))["etcd-backup-restore"]
    error = case.find("error")
    assert error is not None and case.find("failure") is None
    assert error.get("message") == results[3]["error"]
    assert "phase preflight: failed: etcdctl snapshot save" in (error.text or "")


def test_passes_carry_no_failure_and_timings_go_to_system_out(results: list[dict[str, Any]]) -> None:
    by_name = cases(ET.fromstring(to_junit(results)))
    for name in ("pod-kill", "scheduler-down"):
        assert by_name[name].find("failure") is None and by_name[name].find("error") is None
    out = by_name["worker-failure"].findtext("system-out") or ""
    assert "duration time_to_evict: 62.7 s (expected 50.0 s)" in out
    assert "injected +10.2 s" in out
    assert "availability guestbook-write: 97.9 % of 140 samples, longest outage 3.0 s" in out
    assert "restore performed: yes, verified: yes" in out


def test_document_matches_the_junit_xsd(results: list[dict[str, Any]]) -> None:
    validate_xsd(to_junit(results))
    validate_xsd(to_junit([]))


def test_the_xsd_check_rejects_a_broken_document(results: list[dict[str, Any]]) -> None:
    broken = to_junit(results).replace(' tests="4"', "", 1)
    with pytest.raises(etree.DocumentInvalid):
        validate_xsd(broken)


def test_empty_set_is_a_valid_empty_suite() -> None:
    suite = ET.fromstring(to_junit([]))
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("0", "0", "0")
    assert suite.findall("testcase") == []


def test_control_characters_and_markup_in_results_stay_well_formed(results: list[dict[str, Any]]) -> None:
    error = results[3]
    error["error"] = "task failed: \x1b[31mFAILED\x1b[0m <exit> & \x00 done"
    worker = results[1]
    worker["expectations"][2]["description"] = 'evicted "late" <b>&</b>'
    document = to_junit(results)
    validate_xsd(document)
    by_name = cases(ET.fromstring(document))
    error_element = by_name["etcd-backup-restore"].find("error")
    failure_element = by_name["worker-failure"].find("failure")
    assert error_element is not None and failure_element is not None
    message = error_element.get("message", "")
    assert "FAILED" in message and "<exit> &" in message and "\x1b" not in message
    assert 'evicted "late" <b>&</b>' in (failure_element.text or "")


def test_fail_without_unmet_expectations_names_the_unverified_restore() -> None:
    result = load("scheduler-down-pass.json")
    result["verdict"] = "fail"
    result["restore"] = {"performed": True, "verified": False}
    failure = ET.fromstring(to_junit([result])).find("testcase/failure")
    assert failure is not None
    assert "not verified healthy after restore" in failure.get("message", "")


def test_error_without_an_error_string_says_why() -> None:
    result = load("etcd-backup-restore-error.json")
    result["error"] = None
    error = ET.fromstring(to_junit([result])).find("testcase/error")
    assert error is not None
    assert error.get("message") == "the drill recorded no expectations"


def test_a_result_without_a_known_verdict_counts_as_an_error() -> None:
    suite = ET.fromstring(to_junit([{"drill": "broken", "verdict": "maybe"}, load("pod-kill-pass.json")]))
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("2", "0", "1")
    assert suite.find("testcase[@name='broken']/error") is not None
    assert suite.find("testcase[@name='pod-kill']/error") is None
