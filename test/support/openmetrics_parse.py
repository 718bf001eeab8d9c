"""Parses an OpenMetrics text exposition with prometheus-client's OpenMetrics parser.

Usage: python openmetrics_parse.py < EXPOSITION

Prints {"families": [...]} as JSON (each family: name, type, unit, help and its samples' name,
labels and value) or {"error": "..."} when the parser rejects the text; exits 0 either way.
"""

import json
import math
import sys

from prometheus_client.openmetrics.parser import text_string_to_metric_families


def _value(value):
    # JSON has no Inf or NaN: those travel as text.
    return value if math.isfinite(value) else str(value)


def main():
    text = sys.stdin.buffer.read().decode("utf-8")
    try:
        families = [
            {
                "name": family.name,
                "type": family.type,
                "unit": family.unit,
                "help": family.documentation,
                "samples": [{"name": s.name, "labels": s.labels, "value": _value(s.value), "timestamp": s.timestamp} for s in family.samples],
            }
            for family in text_string_to_metric_families(text)
        ]
    except Exception as error:  # the parser raises ValueError, and bare exceptions on some lines
        json.dump({"error": f"{type(error).__name__}: {error}"}, sys.stdout, ensure_ascii=True)
        return 0
    json.dump({"families": families}, sys.stdout, ensure_ascii=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
