# METADATA
# title: Access rules (KD-ACC-001..002)
# description: Keys usable by anyone, and principals that can both administer and use a key.
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
