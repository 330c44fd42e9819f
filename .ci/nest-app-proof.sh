#!/usr/bin/env bash
# Proof that the packed library drops into a fresh Nest 11 app (Express) as the README says:
# generate the app with the Nest CLI, install the tarball with the README's install line, add
# the README's snippets, then run the app's own unit and e2e tests (which hand a write off to a
# stopped node and replay it through a real socket), `npm ls`, no Fastify in the tree, nothing
# written into the project folder, and the built app doing the same hand-off and replay.
# Needs the npm registry. Runs in a temp dir; leaves the repository's working tree as it was.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
step() { printf '\n==> nest-app-proof: %s\n' "$*"; }

step "pack the library"
stage="$work/package"
mkdir -p "$stage"
(cd "$root" && node_modules/.bin/tsc -p tsconfig.build.json --outDir "$stage/dist")
cp "$root/package.json" "$root/README.md" "$stage/"
tarball="$work/$(cd "$stage" && npm pack --silent --pack-destination "$work" | tail -n 1)"

step "nest new (Nest CLI 11)"
cd "$work"
npx -y @nestjs/cli@11 new proof-app --skip-git --package-manager npm --skip-install
cd proof-app
npm install --no-audit --no-fund

step "the README's install line"
size_before="$(du -sm node_modules | cut -f1)"
count_before="$(npm ls --all --parseable 2>/dev/null | wc -l)"
line="$(grep -m 1 '^npm install nestjs-hinted-handoff' "$root/README.md")"
echo "$line"
# The tarball stands in for the registry's package; the rest of the line is verbatim.
read -r -a words <<<"${line#npm install nestjs-hinted-handoff}"
npm install --no-audit --no-fund "$tarball" "${words[@]}"
# Reported, not asserted: what the library adds to this host, and what requiring it costs.
echo "added to the host: $(($(npm ls --all --parseable 2>/dev/null | wc -l) - count_before)) packages," \
  "$(($(du -sm node_modules | cut -f1) - size_before)) MB"
node -e 'const t = process.hrtime.bigint(); require("nestjs-hinted-handoff");
  console.log(`require("nestjs-hinted-handoff"): ${Number(process.hrtime.bigint() - t) / 1e6} ms`)'

step "the README's snippets"
node "$root/.ci/nest-app-proof/readme-snippets.cjs" "$root/README.md" .

step "npm ls"
npm ls
if npm ls --all --parseable | grep -q '/node_modules/fastify$'; then
  echo "fastify is installed into an Express host:" >&2
  npm ls fastify >&2
  exit 1
fi

step "the app's own tests"
npm test -- --runInBand
npm run test:e2e -- --runInBand
if [ -e data ]; then
  echo "the tests created ./data in the project folder" >&2
  exit 1
fi

step "the built app: hand-off and replay through a real socket"
npm run build
node "$root/.ci/nest-app-proof/handoff-run.cjs"

step "ok"
