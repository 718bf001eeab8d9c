# METADATA
# title: Shared helpers for keydrift rules
# description: |
#   Settings lookup by tier, day arithmetic on the epoch seconds the engine adds to every item
#   (item._t.*, input.now_s), and the finding shape. No time.* builtins: wasm has none, and the
#   clock must come from the input so an auditor can re-derive the same findings.
package keydrift.lib

day_s := 86400

# The tier's own settings when the config has any for it, else the profile's.
settings(item) := data.tierSettings[item.tier] if {
	is_string(item.tier)
	data.tierSettings[item.tier]
} else := data.settings

finding(rule, item, severity, evidence) := {
	"rule": rule,
	"uid": item.uid,
	"severity": severity,
	"evidence": evidence,
}

whole_days(seconds) := floor(seconds / day_s)

days_rounded_up(seconds) := ceil(seconds / day_s)
