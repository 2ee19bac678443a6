#!/usr/bin/env bash
# Brings the course's materials into the student's own folder on every start (docs/course.md):
#
#  - a material new to the student is copied in;
#  - a material the student has not changed is updated when the course's version changes;
#  - a material the student changed is never overwritten: the course's new version goes beside it
#    as NAME.course-update-<8 hex>.EXT;
#  - a material the student deleted stays deleted unless the course's version changes.
#
# What was delivered is recorded in the student's folder (.course-delivered, sha256sum format), so
# the rules hold across images; deleting the whole folder starts over with a fresh copy. It runs as
# the student, on files the student owns: nothing here can reach past the student's own rights.
#
#   COURSE_NAME       the folder's name under ~/work (set by the image)
#   COURSE_MATERIALS  the materials in the image (default /opt/course/materials)
#   COURSE_DATA       the course's read-only data, linked as ~/data (default /opt/course/data)
set -euo pipefail

name=${COURSE_NAME:-course}
source_dir=${COURSE_MATERIALS:-/opt/course/materials}
data_dir=${COURSE_DATA:-/opt/course/data}
manifest="$source_dir.sha256"
dest="${HOME}/work/${name}"
record="$dest/.course-delivered"

# The data is one path for everyone; the link is remade only where nothing of the student's is.
if [[ -d $data_dir && ! -e ${HOME}/data && ! -L ${HOME}/data ]]; then
  ln -s "$data_dir" "${HOME}/data" || true
fi

[[ -s $manifest ]] || exit 0

declare -A delivered=()
if [[ -f $record && ! -L $record ]]; then
  while IFS= read -r line; do
    [[ $line =~ ^([0-9a-f]{64})\ \ \./(.+)$ ]] && delivered[${BASH_REMATCH[2]}]=${BASH_REMATCH[1]}
  done <"$record"
fi

mkdir -p "$dest"
next=$(mktemp "$dest/.course-delivered.XXXXXX")
trap 'rm -f "$next"' EXIT
added=0 updated=0 beside=0

# The path of the course's new version beside the student's own: a.ipynb -> a.course-update-1a2b3c4d.ipynb
beside_name() {
  local file=$1 hash=$2 dir base
  dir=$(dirname "$file")
  base=$(basename "$file")
  if [[ $base == ?*.* ]]; then
    printf '%s/%s.course-update-%s.%s' "$dir" "${base%.*}" "${hash:0:8}" "${base##*.}"
  else
    printf '%s/%s.course-update-%s' "$dir" "$base" "${hash:0:8}"
  fi
}

while IFS= read -r line; do
  [[ $line =~ ^([0-9a-f]{64})\ \ \./(.+)$ ]] || continue
  hash=${BASH_REMATCH[1]}
  rel=${BASH_REMATCH[2]}
  was=${delivered[$rel]:-}
  target="$dest/$rel"
  if [[ $was == "$hash" ]]; then
    # The course did not change this file since it was delivered: kept, edited or deleted, the
    # student's choice stands.
    printf '%s  ./%s\n' "$hash" "$rel" >>"$next"
    continue
  fi
  if [[ ! -e $target && ! -L $target ]]; then
    mkdir -p "$(dirname "$target")"
    cp "$source_dir/$rel" "$target"
    added=$((added + 1))
  elif [[ -f $target ]]; then
    current=$(sha256sum <"$target" | cut -d' ' -f1)
    if [[ $current == "$hash" ]]; then
      :
    elif [[ -n $was && $current == "$was" ]]; then
      cp "$source_dir/$rel" "$target"
      updated=$((updated + 1))
    else
      copy=$(beside_name "$target" "$hash")
      if [[ ! -e $copy && ! -L $copy ]]; then
        cp "$source_dir/$rel" "$copy"
        beside=$((beside + 1))
      fi
    fi
  else
    # A folder or a link of the student's where the course has a file: the student's stays.
    copy=$(beside_name "$target" "$hash")
    if [[ ! -e $copy && ! -L $copy ]]; then
      cp "$source_dir/$rel" "$copy"
      beside=$((beside + 1))
    fi
  fi
  printf '%s  ./%s\n' "$hash" "$rel" >>"$next"
done <"$manifest"

mv -f "$next" "$record"
trap - EXIT
printf 'course %s: %d new, %d updated, %d new versions beside your own edits, in ~/work/%s\n' \
  "$name" "$added" "$updated" "$beside" "$name"
