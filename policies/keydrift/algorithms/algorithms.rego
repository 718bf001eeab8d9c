# METADATA
# title: Algorithm rules (KD-ALG-001..003)
# description: |
#   Denied and unrecognised algorithms, minimum key sizes by the date the strength must hold, and
#   quantum-vulnerable keys. Dates follow NIST: SP 800-131A for denied algorithms, SP 800-57 Pt 1
#   Rev. 5 Table 4 for sizes, NIST IR 8547 for quantum-vulnerable algorithms (docs/rule-semantics.md).
package keydrift.algorithms

import data.keydrift.lib

# KD-ALG-001: a denied algorithm, at the severity what the key can still do calls for (denied_level),
# or (level "unrecognised") one keydrift could not map: unknown, not cleared.
findings contains lib.rule_finding_at("KD-ALG-001", item, level, {
	"algorithm": item.algorithm,
	"reason": denied_reason[level],
	"rawAlgorithm": object.get(item.evidence, "rawAlgorithm", item.algorithm),
}) if {
	some item in input.items
	lib.live_key(item)
	denied(item)
	level := denied_level(item)
}

findings contains lib.rule_finding_at("KD-ALG-001", item, "unrecognised", {
	"algorithm": item.algorithm,
	"reason": "unrecognised",
	"rawAlgorithm": substring(item.algorithm, count("UNKNOWN:"), -1),
}) if {
	some item in input.items
	lib.live_key(item)
	startswith(item.algorithm, "UNKNOWN:")
	not denied(item)
}

# "DES" denies "DES" and "DES-56" but never "3DES".
denied(item) if {
	some name in lib.settings(item).algorithms.denied
	matches_algorithm(item.algorithm, name)
}

matches_algorithm(algorithm, name) if algorithm == name

matches_algorithm(algorithm, name) if startswith(algorithm, concat("", [name, "-"]))

# SP 800-131A Rev. 2 keeps "legacy use" (decrypt, unwrap, verify already-protected data) for
# algorithms it disallows for applying protection, so a key that can no longer apply any (PKCS#11
# CKA_ENCRYPT, CKA_WRAP, CKA_SIGN and CKA_DERIVE all false) is level "legacy". An entry of
# algorithms.deprecatedUntil (HMAC-SHA1: deprecated through 2030 in the Rev. 3 draft) is only
# deprecated while the clock is before that date, and stays so for a key whose material expires by
# then: level "deprecated". Anything else can apply a disallowed algorithm: the default.
denied_level(item) := "legacy" if {
	item.attributes.appliesProtection == false
} else := "deprecated" if {
	some name, until_s in object.get(lib.settings(item), ["algorithms", "deprecatedUntil_s"], {})
	matches_algorithm(item.algorithm, name)
	input.now_s <= until_s
	lib.known(item._t.expiresAt)
	item._t.expiresAt <= until_s
} else := "default"

denied_reason := {"default": "denied", "legacy": "legacy-use", "deprecated": "deprecated"}

# KD-ALG-002: shorter than the minimum for its key type in force when its strength must hold:
# now, or for an encryption, wrapping or key-agreement key with algorithms.secrecyYears set, the
# date its data must stay secret until. Unknown size is not judged.
findings contains lib.rule_finding("KD-ALG-002", item, {
	"keyType": item.keyType,
	"keySize": item.keySize,
	"curve": object.get(item, "curve", null),
	"minBits": floor.bits,
	"minBitsFrom": floor.from,
	"judgedAt": lib.strength_judged_at(item),
}) if {
	some item in input.items
	lib.live_key(item)
	is_number(item.keySize)
	floor := lib.min_bits_at(item, lib.strength_instant(item))
	item.keySize < floor.bits
}

# KD-ALG-003: an RSA or EC key in service that no retirement date takes out of use before the PQC
# deadline (info; level "key-establishment", low, for keys whose data can be recorded now and
# decrypted later), or (level "disallowed") one used, or protecting data that must stay secret,
# past pqc.disallowedAfter (NIST IR 8547: quantum-vulnerable algorithms disallowed after 2035).
findings contains lib.rule_finding_at("KD-ALG-003", item, level, {
	"algorithm": item.algorithm,
	"purpose": item.purpose,
	"pqcDeadline": lib.settings(item).pqc.deadline,
	"expiresAt": item.expiresAt,
	"disallowedAfter": object.get(lib.settings(item), ["pqc", "disallowedAfter"], null),
	"judgedAt": lib.strength_judged_at(item),
	"reason": quantum_reason(item, level),
}) if {
	some item in input.items
	lib.active_key(item)
	item.keyType in {"rsa", "ec"}
	level := quantum_level(item)
}

quantum_level(item) := "disallowed" if {
	disallowed(item)
} else := "key-establishment" if {
	not retires_before_deadline(item)
	lib.protects_secrecy(item)
} else := "default" if {
	not retires_before_deadline(item)
}

retires_before_deadline(item) if {
	lib.known(item._t.expiresAt)
	item._t.expiresAt <= lib.settings(item).pqc.deadline_s
}

quantum_reason(item, "disallowed") := concat("", [
	"in use or protecting data at ", lib.strength_judged_at(item), ", after ", lib.settings(item).pqc.disallowedAfter,
	", when quantum-vulnerable algorithms are disallowed",
])

quantum_reason(item, "key-establishment") := concat("", [
	"no retirement date before ", lib.settings(item).pqc.deadline,
	"; data it protects can be recorded now and decrypted later",
])

quantum_reason(item, "default") := concat("", ["no retirement date before ", lib.settings(item).pqc.deadline])

disallowed(item) if {
	after_s := object.get(lib.settings(item), ["pqc", "disallowedAfter_s"], null)
	is_number(after_s)
	lib.strength_instant(item) > after_s
}
