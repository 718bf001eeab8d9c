# METADATA
# title: HSM rules (KD-HSM-001..002)
# description: Key material that can leave its protection boundary, and tiers that must live in an HSM.
package keydrift.hsm

import data.keydrift.lib

# KD-HSM-001: the key can leave its boundary: PKCS#11 CKA_EXTRACTABLE true or CKA_SENSITIVE false,
# Vault transit exportable or allow_plaintext_backup. Unknown attributes are not judged. Level
# "wrapped-only" (low): the key leaves only wrapped, and only under a wrapping key the security
# officer marked trusted (sensitive, CKA_WRAP_WITH_TRUSTED), which is the "encrypted with a
# key-encrypting key" form PCI DSS 3.6.1.2 accepts; any other extractable key can be wrapped under
# a key the caller chooses (and knows), so it is the default.
findings contains lib.rule_finding_at("KD-HSM-001", item, export_level(item, exposures), {
	"attribute": first.attribute,
	"value": first.value,
	"attributes": exposures,
	"wrapWithTrusted": object.get(item.attributes, "wrapWithTrusted", null),
}) if {
	some item in input.items
	lib.live_key(item)
	not public_key_object(item)
	exposures := [exposure |
		some attribute in ["extractable", "sensitive", "exportable", "plaintextBackup"]
		item.attributes[attribute] == risky_value[attribute]
		exposure := {"attribute": attribute, "value": risky_value[attribute]}
	]
	count(exposures) > 0
	first := exposures[0]
}

export_level(item, exposures) := "wrapped-only" if {
	exposures == [{"attribute": "extractable", "value": true}]
	item.attributes.sensitive == true
	item.attributes.wrapWithTrusted == true
} else := "default"

# A PKCS#11 public-key object is neither sensitive nor secret by design.
public_key_object(item) if {
	some field in ["class", "objectClass", "CKA_CLASS"]
	upper(item.evidence[field]) in {"CKO_PUBLIC_KEY", "PUBLIC", "PUBLIC_KEY"}
}

risky_value := {"extractable": true, "sensitive": false, "exportable": true, "plaintextBackup": true}

# KD-HSM-002: a tier that protection.hsmTiers reserves for HSMs is held in software or outside.
findings contains lib.rule_finding("KD-HSM-002", item, {
	"tier": item.tier,
	"protection": item.protection,
	"hsmTiers": lib.settings(item).protection.hsmTiers,
}) if {
	some item in input.items
	lib.live_key(item)
	is_string(item.tier)
	item.tier in lib.settings(item).protection.hsmTiers
	item.protection in {"software", "external"}
}
