# Shared by build-redis-image and build-operator-image: a minimal root filesystem for `docker
# import` (no registry is reachable here). Source it; functions only.

# rootfs_add_binary ROOTFS SRC DEST: copies SRC (following symlinks) to ROOTFS/DEST and every
# library `ldd SRC` lists, plus the dynamic loader, each at its own path.
rootfs_add_binary() {
  local rootfs="$1" src="$2" dest="$3"
  mkdir -p "$rootfs$(dirname "$dest")"
  cp -L "$src" "$rootfs$dest"
  # Lines look like "libssl.so.3 => /lib/x86_64-linux-gnu/libssl.so.3 (0x...)" or
  # "/lib64/ld-linux-x86-64.so.2 (0x...)".
  ldd "$src" | awk '
    $2 == "=>" && $3 ~ /^\// { print $3 }
    $1 ~ /^\// { print $1 }' | sort -u | while read -r lib; do
    mkdir -p "$rootfs$(dirname "$lib")"
    cp -L "$lib" "$rootfs$lib"
  done
}

# rootfs_finish ROOTFS: Debian's merged /usr (/lib and /lib64 as symlinks into /usr), /tmp with
# the sticky bit, and nsswitch.conf. Call after every rootfs_add_binary.
rootfs_finish() {
  local rootfs="$1" d
  for d in lib lib64; do
    if [ -L "/$d" ] && [ -d "$rootfs/$d" ]; then
      mkdir -p "$rootfs/usr/$d"
      cp -a "$rootfs/$d/." "$rootfs/usr/$d/"
      rm -rf "${rootfs:?}/$d"
      ln -s "usr/$d" "$rootfs/$d"
    fi
  done
  mkdir -p "$rootfs/tmp" "$rootfs/etc"
  chmod 1777 "$rootfs/tmp"
  printf 'hosts: files dns\n' >"$rootfs/etc/nsswitch.conf"
}

# docker_for SOCKET: prints the docker CLI (Debian's, which matches the daemon) with -H.
docker_host_of() {
  case "$1" in
    unix://*|tcp://*) echo "$1" ;;
    *) echo "unix://$1" ;;
  esac
}
docker_cli() {
  if [ -x /usr/bin/docker ]; then echo /usr/bin/docker; else command -v docker; fi
}
