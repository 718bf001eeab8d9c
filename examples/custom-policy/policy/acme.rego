# METADATA
# title: ACME Corp house rules for keys and certificates
# description: |
#   A worked example of a custom keydrift policy. keydrift compiles this folder to wasm with opa
#   (policy.bundles in keydrift.yaml) and evaluates it over the same input as the built-in rules.
#   Two documents are required: `rules` (the catalogue entries) and `findings`.
package keydrift.custom

import data.keydrift.lib

# Catalogue entries: title, default severity and description are required; message is a template
# with {name}, {uid}, {location} and {evidence.<key>}; help is Markdown for SARIF and HTML.
rules := {
	"ACME-001": {
		"title": "Production key lacks an owner or application tag",
		"severity": "medium",
		"description": "Every customer key tagged env=prod must carry owner and app tags, so incidents reach a team.",
		"message": "Key {name} ({location}) is tagged env=prod but has no {evidence.missing} tag.",
		"remediation": "Tag the key with owner=<team> and app=<service> in its IaC.",
		"help": "## ACME-001\n\nACME's incident process routes key alerts by the `owner` and `app` tags.\n\n```sh\naws kms tag-resource --key-id <key> --tags TagKey=app,TagValue=<service>\n```",
		"tags": ["governance", "acme"],
		"controls": [{"framework": "iso-27001-2022", "id": "A.5.9", "title": "Inventory of information and other associated assets"}],
	},
	"ACME-002": {
		"title": "Leaf certificate not issued by the corporate issuing CA",
		"severity": "low",
		"description": "Leaf certificates in scope must chain to Example Corp Issuing CA 1.",
		"message": "Certificate {name} ({location}) is issued by {evidence.issuer}.",
		"remediation": {"text": "Re-issue the certificate from the corporate issuing CA.", "automatic": false},
		"tags": ["certificates", "acme"],
	},
}

corporate_issuer := "Example Corp Issuing CA 1"

# ACME-001: production keys need owner and app tags.
findings contains lib.finding("ACME-001", item, "medium", {"missing": concat(", ", missing)}) if {
	some item in input.items
	lib.live_key(item)
	item.tags.env == "prod"
	missing := [tag | some tag in ["owner", "app"]; not item.tags[tag]]
	count(missing) > 0
}

# ACME-002: leaves from any other issuer. The finding's severity may differ from the default.
findings contains lib.finding("ACME-002", item, "low", {"issuer": item.certificate.issuer}) if {
	some item in input.items
	item.kind == "certificate"
	not item.certificate.isCA
	not contains(item.certificate.issuer, corporate_issuer)
}
