#!/usr/bin/env bash
# Installs what the browser tests need (headless Chromium and CJK fonts) when missing.
# Filled in by the pages work (issue 7); until then there is nothing to install.
exit 0
