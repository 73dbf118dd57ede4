"""pip-audit's JSON report -> exit 1 when a known vulnerability has a fixed release (see .ci/audit)."""

import json
import os
import sys

try:
    with open(sys.argv[1], encoding="utf-8") as report:
        dependencies = json.load(report)["dependencies"]
except (OSError, ValueError, KeyError):
    dependencies = []
audited = [d for d in dependencies if "skip_reason" not in d]
if not audited:
    print("audit: PyPI's vulnerability API is not reachable from here: no package could be audited", file=sys.stderr)
    if os.environ.get("TUYABOT_AUDIT") == "required":
        sys.exit(1)
    print("audit: skipped (TUYABOT_AUDIT=required makes this a failure)", file=sys.stderr)
    sys.exit(0)
found = [(d["name"], d["version"], v["id"], v["fix_versions"]) for d in audited for v in d.get("vulns", [])]
fixable = [f for f in found if f[3]]
for name, version, vuln, fixes in found:
    print(f"audit: {name} {version}: {vuln}" + (f" (fixed in {', '.join(fixes)})" if fixes else " (no fix yet)"))
print(f"audit: {len(audited)} packages audited ({len(dependencies) - len(audited)} could not be), "
      f"{len(found)} known vulnerabilities, {len(fixable)} with a fix")
sys.exit(1 if fixable else 0)
