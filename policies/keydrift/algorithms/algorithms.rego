# METADATA
# title: Algorithm rules (KD-ALG-001..003)
# description: Denied and unrecognised algorithms, minimum key sizes, and quantum-vulnerable keys without a retirement date.
package keydrift.algorithms

import data.keydrift.lib

# KD-ALG-001: a denied algorithm, or (level "unrecognised") one keydrift could not map: unknown, not cleared.
findings contains lib.rule_finding("KD-ALG-001", item, {
	"algorithm": item.algorithm,
	"reason": "denied",
	"rawAlgorithm": object.get(item.evidence, "rawAlgorithm", item.algorithm),
}) if {
	some item in input.items
	lib.live_key(item)
	denied(item)
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

# KD-ALG-002: shorter than algorithms.minBits for its key type. Unknown size is not judged.
findings contains lib.rule_finding("KD-ALG-002", item, {
	"keyType": item.keyType,
	"keySize": item.keySize,
	"minBits": min_bits,
}) if {
	some item in input.items
	lib.live_key(item)
	is_number(item.keySize)
	min_bits := lib.settings(item).algorithms.minBits[item.keyType]
	item.keySize < min_bits
}

# KD-ALG-003: an RSA or EC key in service with no expiry before the post-quantum deadline.
findings contains lib.rule_finding("KD-ALG-003", item, {
	"algorithm": item.algorithm,
	"pqcDeadline": lib.settings(item).pqc.deadline,
	"expiresAt": item.expiresAt,
}) if {
	some item in input.items
	lib.active_key(item)
	item.keyType in {"rsa", "ec"}
	not retires_before_deadline(item)
}

retires_before_deadline(item) if {
	lib.known(item._t.expiresAt)
	item._t.expiresAt <= lib.settings(item).pqc.deadline_s
}
