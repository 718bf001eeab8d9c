package keydrift.governance_test

import data.keydrift.main

run(sources) := found if {
	found := main.findings with input as {"now_s": 0, "items": [], "sources": sources}
		with data.settings as {}
		with data.tierSettings as {}
}

test_complete_source_is_not_a_finding if {
	count(run([{"id": "certs", "type": "x509-files", "status": "ok", "errors": []}])) == 0
}

test_partial_source_is_a_high_finding if {
	found := run([{"id": "certs", "type": "x509-files", "status": "partial", "errors": [{"code": "certificate-invalid", "message": "certs/bad.pem: not base64"}]}])
	some f in found
	f.rule == "KD-GOV-003"
	f.uid == "source:certs"
	f.severity == "high"
	f.evidence.status == "partial"
	f.evidence.errorCount == 1
	f.evidence.firstError == "certs/bad.pem: not base64"
}

test_failed_source_without_errors_still_fires if {
	some f in run([{"id": "edge", "type": "tls", "status": "failed", "errors": []}])
	f.rule == "KD-GOV-003"
	f.evidence.firstError == ""
}

test_one_finding_per_incomplete_source if {
	found := run([
		{"id": "a", "type": "tls", "status": "failed", "errors": []},
		{"id": "b", "type": "tls", "status": "ok", "errors": []},
		{"id": "c", "type": "tls", "status": "partial", "errors": []},
	])
	{f.uid | some f in found} == {"source:a", "source:c"}
}
