#!/usr/bin/env bash
# Headless Chromium from Debian's packages, for the HTML report's browser test
# (test/integration/html-report.test.ts). Installs only when /usr/bin/chromium is missing; needs
# root (CI runs as root) and the Debian package mirror. Prints the browser's path.
set -euo pipefail
if [ ! -x /usr/bin/chromium ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
echo /usr/bin/chromium
