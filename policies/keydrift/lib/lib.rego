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

# Cryptoperiod for the item: the strictest rotation.scopedMaxDays entry that matches it (a profile
# scoping a control to some keys, e.g. CIS GCP 1.10 to Cloud KMS symmetric encryption keys), else
# by purpose where the settings give one (NIST SP 800-57), else maxDays.
max_rotation_days(item) := rotation_limit(item).days

# The same, with the setting it came from, for the finding's evidence.
rotation_limit(item) := {"days": min(scoped), "from": "rotation.scopedMaxDays"} if {
	scoped := {entry.maxDays |
		some entry in object.get(settings(item), ["rotation", "scopedMaxDays"], [])
		in_scope(entry, item)
	}
	count(scoped) > 0
} else := {"days": days, "from": concat(".", ["rotation.purposeMaxDays", item.purpose])} if {
	days := settings(item).rotation.purposeMaxDays[item.purpose]
} else := {"days": settings(item).rotation.maxDays, "from": "rotation.maxDays"}

# An entry names lists of providers, purposes and key types; a field it leaves out matches any item.
in_scope(entry, item) if {
	every field in ["provider", "purpose", "keyType"] {
		item[field] in object.get(entry, field, [item[field]])
	}
}

# --- Strength by date (SP 800-57 Pt 1 Rev. 5 Table 4; NIST IR 8547) ---

# A key or leaf certificate whose protected data must stay secret after its last use: data
# encrypted, wrapped or agreed today can be recorded now and attacked later. A CA certificate only
# signs, and a signature is judged when it is made.
protects_secrecy(item) if {
	item.kind == "key"
	item.purpose in {"encrypt", "wrap", "agree"}
}

protects_secrecy(item) if {
	item.kind == "certificate"
	item.certificate.isCA == false
}

# The last instant the item applies protection: a certificate's notAfter, a key's expiresAt, else now.
use_ends_s(item) := item._t.notAfter if {
	item.kind == "certificate"
	known(item._t.notAfter)
} else := item._t.expiresAt if {
	known(item._t.expiresAt)
} else := input.now_s

secrecy_years(item) := years if {
	years := object.get(settings(item), ["algorithms", "secrecyYears"], null)
	is_number(years)
}

# The instant at which the item's strength must still hold: now, or for a key that protects secrecy
# with algorithms.secrecyYears set, the end of its use plus that many years (365-day years), the
# date its data must stay secret until (SP 800-57 Pt 1 Rev. 6 ipd, 4.6.4: protection is not applied
# when the security life of the data extends into the time frame the algorithm is disallowed).
strength_instant(item) := max([input.now_s, use_ends_s(item) + ((secrecy_years(item) * 365) * day_s)]) if {
	protects_secrecy(item)
	is_number(secrecy_years(item))
} else := input.now_s

# How strength_instant was reached, for evidence (wasm has no date formatting).
strength_judged_at(item) := "now" if {
	strength_instant(item) == input.now_s
} else := concat("", [use_end_label(item), " + ", format_int(secrecy_years(item), 10), " years"])

use_end_label(item) := item.certificate.notAfter if {
	item.kind == "certificate"
} else := item.expiresAt if {
	is_string(item.expiresAt)
} else := "now"

# The smallest size for the item's key type in force at `instant`: algorithms.minBits, raised by
# each algorithms.minBitsSchedule step in force by then (steps only raise; the engine sorts them by
# date). `from` names the step that set the floor, null for minBits itself. Undefined for a key type
# without a minimum.
min_bits_at(item, instant) := floor_in_force(base, raised, item.keyType) if {
	base := settings(item).algorithms.minBits[item.keyType]
	raised := [step |
		some step in object.get(settings(item), ["algorithms", "minBitsSchedule"], [])
		step.from_s <= instant
		step.minBits[item.keyType] > base
	]
}

floor_in_force(base, raised, key_type) := {"bits": top, "from": first.from} if {
	count(raised) > 0
	top := max({step.minBits[key_type] | some step in raised})
	first := [step | some step in raised; step.minBits[key_type] == top][0]
} else := {"bits": base, "from": null}

# True for a non-null timestamp converted by the engine.
known(seconds) if is_number(seconds)

older_than_days(seconds, days) if input.now_s - seconds > days * day_s
