# METADATA
# title: Shared helpers for keydrift rules
# description: |
#   Settings lookup by tier, key classes (customer, live, active), day arithmetic on the epoch
#   seconds the engine adds to every item (item._t.*, input.now_s), and the finding shape.
#   No time.* builtins: wasm has none, and the clock must come from the input so an auditor can
#   re-derive the same findings. docs/rule-semantics.md is the prose version of this file.
package keydrift.lib

import data.keydrift.catalogue

day_s := 86400

# The tier's own settings when the config has any for it, else the profile's.
settings(item) := data.tierSettings[item.tier] if {
	is_string(item.tier)
	data.tierSettings[item.tier]
} else := data.settings

# A built-in rule's finding, at the default severity of its entry in rules/ (the generated
# data.keydrift.catalogue), so a severity is written once, in rules/<id>.yaml.
rule_finding(rule, item, evidence) := finding(rule, item, severity_at(rule, "default"), evidence)

# The same at a severity the situation picks: level names a key of the entry's severityLevels
# (for example "fail"), or "default".
rule_finding_at(rule, item, level, evidence) := finding(rule, item, severity_at(rule, level), evidence)

# null for a rule without an entry: the finding still reaches the engine, which stops the run
# naming the rule, instead of the finding silently vanishing.
severity_at(rule, level) := object.get(catalogue.rules, [rule, "severity"], null) if {
	level == "default"
} else := object.get(catalogue.rules, [rule, "severityLevels", level], null)

# A finding at an explicit severity: what custom policies build (their catalogue is their own).
finding(rule, item, severity, evidence) := {
	"rule": rule,
	"uid": item.uid,
	"severity": severity,
	"evidence": evidence,
}

whole_days(seconds) := floor(seconds / day_s)

days_rounded_up(seconds) := ceil(seconds / day_s)

# Key classes are predicates, not sets of items: building a set of whole items makes the wasm
# evaluator hash every item several times, which measured 3x slower (bench/).

# Provider-managed keys are judged by no key rule: the customer cannot change them.
customer_key(item) if {
	item.kind == "key"
	item.managedBy == "customer"
}

# Keys that still exist and can be used or re-enabled.
live_key(item) if {
	customer_key(item)
	not item.state in {"pending-deletion", "destroyed"}
}

# Keys in service: cadence and expiry only matter for these.
active_key(item) if {
	customer_key(item)
	item.state == "enabled"
}

# Cryptoperiod for the item: by purpose where the settings give one (NIST SP 800-57), else maxDays.
max_rotation_days(item) := lib_days if {
	lib_days := settings(item).rotation.purposeMaxDays[item.purpose]
} else := settings(item).rotation.maxDays

# True for a non-null timestamp converted by the engine.
known(seconds) if is_number(seconds)

older_than_days(seconds, days) if input.now_s - seconds > days * day_s
