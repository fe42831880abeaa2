#!/bin/sh
# BorgHUI for macOS: double-click to start. Runs the binary for this Mac's
# processor from the folder this file is in (the stick).
cd "$(dirname "$0")" || exit 1
case "$(uname -m)" in
  arm64) exec ./borghui-darwin-arm64 "$@" ;;
  *)     exec ./borghui-darwin-amd64 "$@" ;;
esac
