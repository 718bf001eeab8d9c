# METADATA
# title: Rotation rules (KD-ROT-001..004)
# description: |
#   Cadence of active customer keys. "Rotation enabled" is not a cadence: the period, the next
#   rotation time and the age of the current material are each judged. Unknown (null) is never
#   read as "off".
package keydrift.rotation

import data.keydrift.lib

# KD-ROT-001: rotation is supported but switched off. Imported and external material cannot be
# rotated by the provider, whatever a collector says. While the current material is still within
# the cryptoperiod (KD-ROT-003 would not fire) the gap is a setting that will breach it, level
# "within-cryptoperiod" (medium, as AWS Security Hub KMS.4 rates it); once the material has
# outlived it, or its age is unknown, the key is used beyond its cryptoperiod (PCI DSS 3.7.4): the
# default.
findings contains lib.rule_finding_at("KD-ROT-001", item, off_level(item), {
	"rotationSupported": true,
	"rotationAutomatic": false,
	"origin": item.origin,
	"maxDays": lib.max_rotation_days(item),
}) if {
	some item in input.items
	lib.active_key(item)
	item.rotation.supported == true
	item.rotation.automatic == false
	not item.origin in {"imported", "external"}
}

off_level(item) := "within-cryptoperiod" if {
	material := current_material(item)
	not beyond_cryptoperiod(item, material)
} else := "default"

beyond_cryptoperiod(item, material) if {
	lib.older_than_days(material.seconds, lib.max_rotation_days(item) + lib.settings(item).rotation.graceDays)
}

# KD-ROT-002: automatic rotation, but less often than the cryptoperiod allows.
findings contains lib.rule_finding("KD-ROT-002", item, {
	"periodDays": item.rotation.periodDays,
	"maxDays": lib.max_rotation_days(item),
	"maxDaysFrom": lib.rotation_limit(item).from,
	"tier": item.tier,
}) if {
	some item in input.items
	lib.active_key(item)
	item.rotation.automatic == true
	is_number(item.rotation.periodDays)
	item.rotation.periodDays > lib.max_rotation_days(item)
}

# KD-ROT-003: the current material is older than the cryptoperiod plus grace, whatever the key type.
findings contains lib.rule_finding("KD-ROT-003", item, {
	"materialDate": material.date,
	"materialSource": material.source,
	"ageDays": lib.whole_days(input.now_s - material.seconds),
	"maxDays": lib.max_rotation_days(item),
	"maxDaysFrom": lib.rotation_limit(item).from,
	"graceDays": lib.settings(item).rotation.graceDays,
}) if {
	some item in input.items
	lib.active_key(item)
	material := current_material(item)
	beyond_cryptoperiod(item, material)
}

current_material(item) := {"date": item.rotation.lastRotatedAt, "seconds": item._t.lastRotatedAt, "source": "lastRotatedAt"} if {
	lib.known(item._t.lastRotatedAt)
} else := {"date": version.createdAt, "seconds": latest, "source": "primaryVersion"} if {
	latest := max({v._t.createdAt | some v in item.versions; v.primary == true; lib.known(v._t.createdAt)})
	version := [v | some v in item.versions; v.primary == true; v._t.createdAt == latest][0]
} else := {"date": item.createdAt, "seconds": item._t.createdAt, "source": "createdAt"} if {
	lib.known(item._t.createdAt)
}

# KD-ROT-004: automatic rotation is overdue by more than the grace period (stalled or failing).
findings contains lib.rule_finding("KD-ROT-004", item, {
	"nextRotationAt": item.rotation.nextRotationAt,
	"overdueDays": lib.whole_days(input.now_s - item._t.nextRotationAt),
	"graceDays": lib.settings(item).rotation.graceDays,
	"maxDays": lib.max_rotation_days(item),
}) if {
	some item in input.items
	lib.active_key(item)
	item.rotation.automatic == true
	lib.known(item._t.nextRotationAt)
	lib.older_than_days(item._t.nextRotationAt, lib.settings(item).rotation.graceDays)
}
