# METADATA
# title: Governance rules (KD-GOV-003)
# description: Coverage. A source that was not fully collected is a finding, never a pass.
package keydrift.governance

import data.keydrift.lib

# KD-GOV-003: a source ended partial or failed (denied, throttled out, unreachable, unreadable).
findings contains {
	"rule": "KD-GOV-003",
	"uid": concat("", ["source:", source.id]),
	"severity": "high",
	"evidence": {
		"sourceType": source.type,
		"status": source.status,
		"errorCount": count(source.errors),
		"firstError": first_error(source),
	},
} if {
	some source in input.sources
	source.status != "ok"
}

first_error(source) := source.errors[0].message if {
	count(source.errors) > 0
} else := ""
