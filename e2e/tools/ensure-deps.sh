#!/usr/bin/env bash
# Installs what the tests use to check certinel's output as real clients do:
# keytool and java (a JSSE handshake) and openssl. On Debian as root they are
# installed when missing; otherwise the script says what to install.
set -euo pipefail
missing=()
command -v openssl >/dev/null || missing+=(openssl)
if ! command -v keytool >/dev/null || ! command -v java >/dev/null; then
  missing+=(default-jre-headless)
fi
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing ${missing[*]}" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
else
  echo "missing: ${missing[*]} (on Debian: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
