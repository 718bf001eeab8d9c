# Shared fixtures for the rule tests: a healthy customer key, the default settings as the engine
# passes them, and a runner that evaluates the whole entrypoint for one item.
package keydrift.testing

import data.keydrift.main

# 2026-11-01T00:00:00Z
now_s := 1793491200

day := 86400

default_settings := {
	"rotation": {"maxDays": 365, "graceDays": 7, "purposeMaxDays": {}, "scopedMaxDays": []},
	"algorithms": {
		"denied": ["DES", "3DES", "RC4", "HMAC-SHA1", "HMAC-MD5"],
		"minBits": {"rsa": 2048, "ec": 256, "symmetric": 128, "hmac": 256},
		"minBitsSchedule": [{"from": "2031-01-01", "from_s": 1924992000, "minBits": {"rsa": 3072, "ec": 256, "symmetric": 128, "hmac": 128}}],
		"secrecyYears": null,
		"deprecatedUntil": [{"algorithm": "HMAC-SHA1", "until": "2030-12-31"}],
		"deprecatedUntil_s": {"HMAC-SHA1": 1924991999},
	},
	"pqc": {"deadline": "2030-12-31", "deadline_s": 1924991999, "disallowedAfter": null, "disallowedAfter_s": null},
	"retirement": {"disabledMaxDays": 90, "legalHoldTag": "legal-hold", "oldVersionMaxDays": 90},
	"expiry": {"warnDays": 30, "failDays": 7},
	"certificates": {"maxValidityDays": 398, "weakSignatureHashes": ["MD2", "MD5", "SHA1"], "validitySchedule": []},
	"protection": {"hsmTiers": ["kek", "root"]},
	"governance": {"requiredTags": []},
}

with_settings(overrides) := object.union(default_settings, overrides)

# A healthy AWS KMS customer key: symmetric, rotating yearly, rotated 100 days ago.
key(overrides) := object.union(
	{
		"uid": "arn:aws:kms:us-east-1:111122223333:key/0000",
		"kind": "key",
		"provider": "aws-kms",
		"name": "alias/orders",
		"managedBy": "customer",
		"state": "enabled",
		"stateSince": null,
		"algorithm": "AES-256",
		"keyType": "symmetric",
		"keySize": 256,
		"purpose": "encrypt",
		"protection": "hsm",
		"origin": "generated",
		"createdAt": "2024-01-01T00:00:00Z",
		"expiresAt": null,
		"rotation": {
			"supported": true,
			"automatic": true,
			"periodDays": 365,
			"lastRotatedAt": "2026-07-24T00:00:00Z",
			"nextRotationAt": "2027-07-24T00:00:00Z",
		},
		"versions": null,
		"deletion": null,
		"attributes": null,
		"access": {"public": false, "adminAndUse": []},
		"certificate": null,
		"tags": {},
		"tier": null,
		"evidence": {},
		"_t": {
			"createdAt": now_s - (1035 * day),
			"lastRotatedAt": now_s - (100 * day),
			"nextRotationAt": now_s + (265 * day),
			"expiresAt": null,
			"stateSince": null,
			"deletionScheduledFor": null,
			"notBefore": null,
			"notAfter": null,
		},
	},
	overrides,
)

run(items, settings, tier_settings) := found if {
	found := main.findings with input as {"now_s": now_s, "items": items, "sources": [], "waivers": []}
		with data.settings as settings
		with data.tierSettings as tier_settings
}

findings(item) := run([item], default_settings, {})

rules(item) := {f.rule | some f in findings(item)}

rules_with(item, settings) := {f.rule | some f in run([item], settings, {})}

finding(item, rule) := f if {
	some f in findings(item)
	f.rule == rule
}
