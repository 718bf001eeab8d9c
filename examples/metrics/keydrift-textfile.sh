#!/usr/bin/env bash
# Nightly keydrift scan for Prometheus: scans, keeps the JSON and Markdown reports, and publishes
# keydrift.prom (OpenMetrics) in node_exporter's textfile-collector directory. See README.md beside
# this file. Settings come from the environment; the defaults suit the systemd units in README.md.
set -euo pipefail

config="${KEYDRIFT_CONFIG:-/etc/keydrift/keydrift.yaml}"
reports="${KEYDRIFT_REPORTS:-/var/lib/keydrift/reports}"
textfile_dir="${KEYDRIFT_TEXTFILE_DIR:-/var/lib/node_exporter/textfile_collector}"

mkdir -p "$reports"

# keydrift exits 1 when findings reach --fail-on and 3 when a source was only partly collected: the
# reports are complete in both cases and the metrics say which. Only 2 (usage, configuration or
# policy error: nothing was evaluated) and anything else stop here, leaving the last good
# keydrift.prom in place; its keydrift_scan_timestamp_seconds then shows how old it is.
status=0
keydrift scan --config "$config" --format json,md --out "$reports" --quiet || status=$?
case "$status" in
  0 | 1 | 3) ;;
  *)
    echo "keydrift scan failed with exit code $status: keeping the previous metrics" >&2
    exit "$status"
    ;;
esac

# Written through a temporary file in the same directory and renamed over keydrift.prom, so the
# collector never reads half a file; the temporary name does not end in .prom, which the collector skips.
keydrift report --from "$reports/keydrift.json" --format prom --out "$textfile_dir" --quiet
