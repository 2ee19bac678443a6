#!/usr/bin/env bash
# Installs a course into the image, one step per Dockerfile layer (see docs/course.md):
#
#   course-build.sh apt FILE        Debian packages listed in FILE (apt.txt), as root
#   course-build.sh pip FILE WHEELS Python packages in FILE (requirements.txt) into the venv, with
#                                   the folder WHEELS as --find-links; PIP_INDEX_URL is the index,
#                                   empty for none (an offline build)
#   course-build.sh postbuild FILE  runs FILE (postBuild) once, as the notebook user
#
# A package that cannot be installed fails the build with its file, line and name, so an instructor
# reads which line to fix rather than a resolver's trace.
set -euo pipefail

die() {
  printf 'course: %s\n' "$*" >&2
  exit 1
}

# Prints "LINE<TAB>ENTRY" for every entry of a list file: comments and blank lines skipped.
entries() {
  local n=0 line
  while IFS= read -r line || [[ -n $line ]]; do
    n=$((n + 1))
    line=${line%%#*}
    line=${line//$'\r'/}
    read -r line <<<"$line" || true
    [[ -n $line ]] && printf '%s\t%s\n' "$n" "$line"
  done <"$1"
}

apt_step() {
  local file=$1 packages=() lines=() n name
  while IFS=$'\t' read -r n name; do
    lines+=("$n")
    packages+=("$name")
  done < <(entries "$file")
  if ((${#packages[@]} == 0)); then
    return 0
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  if ! apt-get install -y -qq --no-install-recommends "${packages[@]}" >/tmp/apt.log 2>&1; then
    # Find the culprit: each package alone, simulated.
    local i found=""
    for i in "${!packages[@]}"; do
      if ! apt-get install -s -qq --no-install-recommends "${packages[$i]}" >/tmp/apt-one.log 2>&1; then
        printf 'course: apt.txt line %s: package "%s" cannot be installed from Debian:\n' \
          "${lines[$i]}" "${packages[$i]}" >&2
        grep -E '^E: ' /tmp/apt-one.log | head -n 3 >&2 || true
        found=1
      fi
    done
    if [[ -z $found ]]; then
      printf 'course: apt.txt: the packages cannot be installed together:\n' >&2
      tail -n 20 /tmp/apt.log >&2
    fi
    exit 1
  fi
  apt-get check >/dev/null
  rm -rf /var/lib/apt/lists/* /tmp/apt.log /tmp/apt-one.log
}

pip_step() {
  local file=$1 wheels=$2 index=${PIP_INDEX_URL-} source
  if [[ -z $(entries "$file") ]]; then
    return 0
  fi
  # pip would read PIP_INDEX_URL itself, and take the empty string for an index named "".
  unset PIP_INDEX_URL
  local flags=(--no-cache-dir --disable-pip-version-check --find-links "$wheels")
  if [[ -n $index ]]; then
    flags+=(--index-url "$index")
    source="the index $index and course/wheels/"
  else
    flags+=(--no-index)
    source="course/wheels/ (no index: PIP_INDEX_URL is empty)"
  fi
  if ! pip install --quiet "${flags[@]}" --requirement "$file" >/tmp/pip.log 2>&1; then
    local n req found=""
    while IFS=$'\t' read -r n req; do
      [[ $req == -* ]] && continue
      if ! pip install --quiet --dry-run --no-deps "${flags[@]}" "$req" >/tmp/pip-one.log 2>&1; then
        printf 'course: requirements.txt line %s: "%s" is not available from %s:\n' \
          "$n" "$req" "$source" >&2
        grep -E '^ERROR: ' /tmp/pip-one.log | head -n 3 >&2 || true
        found=1
      fi
    done < <(entries "$file")
    if [[ -z $found ]]; then
      printf 'course: requirements.txt: pip could not install the packages together:\n' >&2
      grep -E '^ERROR: ' /tmp/pip.log | head -n 20 >&2 || tail -n 20 /tmp/pip.log >&2
    fi
    rm -f /tmp/pip.log /tmp/pip-one.log
    exit 1
  fi
  rm -f /tmp/pip.log
}

postbuild_step() {
  local file=$1
  [[ -s $file ]] || return 0
  [[ -x $file ]] || die "postBuild is not executable: chmod +x postBuild"
  (cd "$(dirname "$file")" && "$file") || die "postBuild failed (exit $?)"
  rm -rf "${HOME}/.cache/pip"
}

case ${1:-} in
  apt) apt_step "${2:?apt needs a file}" ;;
  pip) pip_step "${2:?pip needs a file}" "${3:?pip needs a wheels folder}" ;;
  postbuild) postbuild_step "${2:?postbuild needs a file}" ;;
  *) die "usage: course-build.sh apt FILE | pip FILE WHEELS | postbuild FILE" ;;
esac
