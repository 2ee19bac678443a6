#!/usr/bin/env bash
# Gets the notebook user's home ready before the server starts. The home is the student's volume, so
# everything saved in it is kept; this script
#  - gives a volume the image's own dotfiles once (Docker copies them into a new named volume itself;
#    a bind mount or a Hub's PVC arrives empty), never overwriting a file the student has, and
#  - moves a volume made when only work/ was mounted (its files sit at its root) into work/, where the
#    student left them, so nothing of theirs is hidden by or mixed with the home's own files.
#
# The marker file records how far it got: absent (never seen), "moving" (a move has begun) or
# "seeded" (done; nothing here runs again). The move only renames within the volume (never a copy,
# never over an existing name), and every step can be cut short by a kill: the next start finishes it.
set -euo pipefail
shopt -s dotglob nullglob

home=${HOME:?HOME must be set}
skeleton=/usr/local/share/jetstream-notebook/home
marker="$home/.jetstream-notebook"
staging="$home/.jetstream-notebook-moving"

say() { printf 'seed-home: %s\n' "$*" >&2; }

set_state() {
  printf '%s\n' "$1" >"$marker.new"
  mv -f -- "$marker.new" "$marker"
}

state=""
if [[ -f $marker ]]; then read -r state <"$marker" || true; fi
[[ $state == seeded ]] && exit 0

if [[ ! -w $home ]]; then
  say "$home is not writable by uid $(id -u) gid $(id -g): give the volume to group 100 with group write (chmod g+rwX), or run as uid 1000"
  exit 65
fi

# The home's own entries, as opposed to what a student saved.
ours() { [[ $1 == "$marker" || $1 == "$marker.new" || $1 == "$staging" ]]; }

if [[ -z $state ]]; then
  students=()
  for entry in "$home"/*; do ours "$entry" || students+=("$entry"); done
  # Under a Hub the home was never a work folder of ours: its files stay where they are.
  # A staging folder without a marker is a move killed before its first step.
  if [[ -d $staging ]] || { ((${#students[@]})) && [[ -z ${JUPYTERHUB_API_TOKEN:-} ]]; }; then
    say "this volume was made when only work/ was kept: moving its ${#students[@]} entries into work/"
    mkdir -p -- "$staging"
    set_state moving
    state=moving
  fi
fi

if [[ $state == moving && -d $staging ]]; then
  for entry in "$home"/*; do
    ours "$entry" && continue
    target="$staging/${entry##*/}"
    if [[ -e $target || -L $target ]]; then
      say "cannot move ${entry##*/} into work/: the interrupted move already has an entry of that name in ${staging##*/}/; nothing was overwritten: rename one of the two, then start again"
      exit 65
    fi
    mv --no-copy --no-clobber -T -- "$entry" "$target"
  done
  # The root now holds only our own entries, so work/ is free for the staging folder's name.
  mv --no-copy -T -- "$staging" "$home/work"
  say "moved into work/"
fi

# Missing files only: a student's own .bashrc (or one they deleted, once seeded) is theirs.
cp -a --update=none -- "$skeleton"/. "$home"/
set_state seeded
