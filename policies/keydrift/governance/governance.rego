# METADATA
# title: Governance rules (KD-GOV-001..003)
# description: Required tags, expired waivers, and coverage. A source that was not fully collected is a finding, never a pass.
package keydrift.governance

import data.keydrift.lib

# Providers whose resources carry tags or labels. Elsewhere a tag can never be present, so an
# item is only judged there when it carries tags at all (a snapshot or collector that adds them).
taggable_providers := {"aws-kms", "aws-acm", "gcp-kms", "azure-key-vault"}

taggable(item) if {
	lib.live_key(item)
	can_carry_tags(item)
}

taggable(item) if {
	item.kind == "certificate"
	item.managedBy == "customer"
	can_carry_tags(item)
}

can_carry_tags(item) if item.provider in taggable_providers

can_carry_tags(item) if count(item.tags) > 0

# KD-GOV-001: a tag in governance.requiredTags is missing.
findings contains lib.rule_finding("KD-GOV-001", item, {
	"missingTags": missing,
	"requiredTags": lib.settings(item).governance.requiredTags,
}) if {
	some item in input.items
	taggable(item)
	missing := sort([tag | some tag in lib.settings(item).governance.requiredTags; not has_tag(item, tag)])
	count(missing) > 0
}

has_tag(item, tag) if is_string(item.tags[tag])

# KD-GOV-002: a waiver has expired; the findings it covered are reported again (the engine stops
# suppressing them). The clock is the input's, like every other rule.
findings contains lib.rule_finding("KD-GOV-002", {"uid": concat("", ["waiver:", waiver.rule, "@", waiver.resource])}, {
	"waivedRule": waiver.rule,
	"waiverResource": waiver.resource,
	"waiverOwner": waiver.owner,
	"waiverExpires": waiver.expires,
	"daysExpired": lib.whole_days(input.now_s - waiver.expires_s),
}) if {
	some waiver in input.waivers
	input.now_s > waiver.expires_s
}

# KD-GOV-003: a source ended partial or failed (denied, throttled out, unreachable, unreadable).
findings contains lib.rule_finding("KD-GOV-003", {"uid": concat("", ["source:", source.id])}, {
	"sourceType": source.type,
	"status": source.status,
	"errorCount": count(source.errors),
	"firstError": first_error(source),
}) if {
	some source in input.sources
	source.status != "ok"
}

first_error(source) := source.errors[0].message if {
	count(source.errors) > 0
} else := ""
