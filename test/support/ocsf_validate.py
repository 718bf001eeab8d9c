"""Validates OCSF events against the published OCSF schema, offline.

Usage: python ocsf_validate.py EVENTS.json

EVENTS.json holds one event or a JSON array of events. Each event is checked against the JSON
Schema (draft 2020-12) that ocsf-json-schema generates from the OCSF schema export it ships (the
schema server's own export of each released version): the class named by `class_uid`, in the
version named by `metadata.version`, with the profiles named by `metadata.profiles`. Every
object the schema closes (additionalProperties: false) rejects an attribute that the version
does not define, so a misspelt or invented attribute is an error too.

Prints a JSON list of errors ("event N: /json/pointer: message") on stdout and exits 0; exits 2
when the input cannot be read or names a version or class the package does not ship.
"""

import json
import sys

from jsonschema import Draft202012Validator
from ocsf_json_schema import OcsfJsonSchemaEmbedded, get_ocsf_schema

_schemas = {}
_validators = {}


def _validator(version, class_uid, profiles):
    key = (version, class_uid, tuple(sorted(profiles)))
    if key not in _validators:
        if version not in _schemas:
            _schemas[version] = OcsfJsonSchemaEmbedded(get_ocsf_schema(version=version))
        schema = _schemas[version]
        class_name = schema.lookup_class_name_from_uid(class_uid=class_uid)
        class_schema = schema.get_class_schema(class_name=class_name, profiles=list(profiles))
        Draft202012Validator.check_schema(class_schema)
        _validators[key] = Draft202012Validator(class_schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    return _validators[key]


def _pointer(path):
    return "/" + "/".join(str(part) for part in path)


def main(argv):
    if len(argv) != 2:
        print("usage: ocsf_validate.py EVENTS.json", file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as handle:
        loaded = json.load(handle)
    events = loaded if isinstance(loaded, list) else [loaded]
    errors = []
    for index, event in enumerate(events):
        metadata = event.get("metadata") if isinstance(event, dict) else None
        if not isinstance(metadata, dict) or not isinstance(metadata.get("version"), str) or not isinstance(event.get("class_uid"), int):
            errors.append(f"event {index}: no metadata.version or class_uid to choose a schema by")
            continue
        profiles = metadata.get("profiles") or []
        try:
            validator = _validator(metadata["version"], event["class_uid"], profiles)
        except Exception as error:  # an unshipped version, an unknown class or profile
            print(f"event {index}: no schema for OCSF {metadata['version']} class {event['class_uid']} profiles {profiles}: {error!r}", file=sys.stderr)
            return 2
        for error in sorted(validator.iter_errors(event), key=lambda e: list(e.absolute_path)):
            errors.append(f"event {index}: {_pointer(error.absolute_path)}: {error.message}")
    json.dump(errors, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
