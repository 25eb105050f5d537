#!/bin/bash
# image-verify: two builds from scratch of the same commit must give the same bytes. Compares
# the SHA-256 of every intermediate part and output, and on a difference says which part, and
# for the root tree which files, differ.
set -euo pipefail
: "${IMAGE_DIR:?}" "${REPO_DIR:?}"
V=$IMAGE_DIR/verify
rm -rf "$V"; mkdir -p "$V"
export TREE_MANIFEST=1
# both builds from the same commit, even if HEAD moves meanwhile
IMAGE_COMMIT=$(git -C "$REPO_DIR" rev-parse --verify "${IMAGE_COMMIT:-HEAD}^{commit}")
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$REPO_DIR" log -1 --format=%ct "$IMAGE_COMMIT")}
export IMAGE_COMMIT SOURCE_DATE_EPOCH
echo "image-verify: commit $IMAGE_COMMIT"
for n in 1 2; do
  echo "==== build $n of 2"
  BUILD_DIR=$V/build-$n OUT_DIR=$V/out-$n bash "$IMAGE_DIR/scripts/build.sh" > "$V/build-$n.log" 2>&1 \
    || { tail -n 40 "$V/build-$n.log"; echo "image-verify: build $n failed"; exit 1; }
  cat "$V/out-$n/build-times.txt"
  cat "$V/build-$n/parts.sha256" "$V/out-$n/SHA256SUMS" > "$V/sums-$n.txt"
  cp "$V/build-$n/rootfs.manifest" "$V/rootfs-$n.manifest"
  # the root tree is the largest part; only its manifest is needed for the comparison
  rm -rf "$V/build-$n/rootfs"
done
if cmp -s "$V/sums-1.txt" "$V/sums-2.txt"; then
  echo "image-verify: reproducible, both builds give:"; cat "$V/sums-1.txt"
  exit 0
fi
echo "image-verify: NOT reproducible. Parts that differ:"
join -j 2 <(sort -k2 "$V/sums-1.txt") <(sort -k2 "$V/sums-2.txt") | awk '$2 != $3 {print "  " $1}'
if ! cmp -s "$V/rootfs-1.manifest" "$V/rootfs-2.manifest"; then
  echo "root tree entries that differ (first 30):"
  diff "$V/rootfs-1.manifest" "$V/rootfs-2.manifest" | grep '^[<>]' | head -n 30
fi
exit 1
