# METADATA
# title: Access rules (KD-ACC-001..005)
# description: Keys usable by anyone or by other accounts, principals that can both administer and use a key, key material in several regions, and keys allowed to both sign and decrypt.
package keydrift.access

import data.keydrift.lib

# KD-ACC-001: the collected policy lets anyone use the key (collectors parse conditions first).
findings contains lib.rule_finding("KD-ACC-001", item, {
	"publicPrincipals": object.get(item.evidence, "publicPrincipals", ["*"]),
	"actions": object.get(item.evidence, "publicActions", []),
	"grantSource": object.get(item.evidence, "publicGrantSource", "access.public"),
}) if {
	some item in input.items
	lib.live_key(item)
	item.access.public == true
}

# KD-ACC-002: separation of duties: someone holds both admin and use rights.
findings contains lib.rule_finding("KD-ACC-002", item, {
	"principalCount": count(item.access.adminAndUse),
	"principals": sort(item.access.adminAndUse),
}) if {
	some item in input.items
	lib.live_key(item)
	count(item.access.adminAndUse) > 0
}

# KD-ACC-003: principals of other accounts may use the key (key policy or grants); high when one of
# them can recover plaintext. Accounts in access.trustedAccounts are inside the zone of trust.
findings contains lib.rule_finding_at("KD-ACC-003", item, external_level(uses), {
	"accounts": sort({use.account | some use in uses}),
	"principals": sort({use.principal | some use in uses}),
	"canDecrypt": external_level(uses) == "decrypt",
	"sources": sort({use.source | some use in uses}),
}) if {
	some item in input.items
	lib.live_key(item)
	is_array(item.access.externalUse)
	trusted := object.get(lib.settings(item), ["access", "trustedAccounts"], [])
	uses := [use | some use in item.access.externalUse; not use.account in trusted]
	count(uses) > 0
}

external_level(uses) := "decrypt" if {
	some use in uses
	use.decrypt == true
} else := "default"

# KD-ACC-004: key material in more than one region, where the settings ask for one (pci-dss).
findings contains lib.rule_finding("KD-ACC-004", item, {
	"regions": item.replication.regions,
	"regionCount": count(item.replication.regions),
	"role": item.replication.role,
}) if {
	some item in input.items
	lib.live_key(item)
	count(item.replication.regions) > 1
	lib.settings(item).access.allowMultiRegion == false
}

# KD-ACC-005: one key allowed to sign and to decrypt or unwrap (SP 800-57 Pt 1 5.2: one purpose per
# key); low when the key type fixes that and only ACLs can narrow it.
findings contains lib.rule_finding_at("KD-ACC-005", item, usage_level(item), {
	"usages": item.attributes.usages,
	"conflicting": array.concat(["sign"], confidentiality),
	"fromKeyType": usage_level(item) == "key-type",
}) if {
	some item in input.items
	lib.live_key(item)
	"sign" in item.attributes.usages
	confidentiality := [usage | some usage in ["decrypt", "unwrap"]; usage in item.attributes.usages]
	count(confidentiality) > 0
}

usage_level(item) := "key-type" if {
	item.attributes.usagesFromKeyType == true
} else := "default"
