#!/bin/busybox sh
# Wrenn initramfs /init. Debian's cloud kernel has virtio as modules, so before the real root can be
# mounted: insmod them (in dependency order, precomputed at build time), mount /dev/vda, switch_root.
# Kernel args read: root= (default /dev/vda), rootfstype= (ext4), rootflags=, ro|rw (rw), init= (/sbin/wrenn-init).
# Every command here is an applet of the static busybox; under TCG each fork costs tens of ms, so keep it short.
export PATH=/bin
mount -t proc -o nosuid,nodev,noexec proc /proc
mount -t devtmpfs -o nosuid,mode=0755 devtmpfs /dev

root=/dev/vda fstype=ext4 flags= mode=rw init=/sbin/wrenn-init
read -r cmdline </proc/cmdline
for arg in $cmdline; do
  case "$arg" in
  root=*) root=${arg#root=} ;;
  rootfstype=*) fstype=${arg#rootfstype=} ;;
  rootflags=*) flags=,${arg#rootflags=} ;;
  init=*) init=${arg#init=} ;;
  ro | rw) mode=$arg ;;
  esac
done

while read -r mod; do
  insmod "/lib/modules/$mod.ko" || echo "initramfs: insmod $mod failed"
done </lib/modules/load-order

# virtio_blk probes during insmod, so the disk is normally there already; allow 5 s, bounded.
i=0
while [ ! -b "$root" ] && [ "$i" -lt 100 ]; do
  sleep 0.05
  i=$((i + 1))
done
if ! mount -t "$fstype" -o "$mode$flags" "$root" /newroot; then
  # PID 1 exiting panics the kernel; with panic=-1 and -no-reboot QEMU then exits, which the agent sees.
  echo "initramfs: cannot mount $root ($fstype, $mode$flags); modules: $(cat /proc/modules | cut -d' ' -f1)"
  exit 1
fi
# Mount the guest's API filesystems here and carry them across switch_root: this static busybox mounts
# in a few ms each, while wrenn-init would exec a dynamically linked mount(8) per filesystem (~100 ms each
# under TCG). wrenn-init still mounts whatever is missing, so it also works without this initramfs.
r=/newroot
mount --move /proc $r/proc
mount --move /dev $r/dev
mkdir -p $r/dev/pts $r/dev/shm
mount -t sysfs -o nosuid,nodev,noexec sysfs $r/sys
mount -t devpts -o nosuid,noexec,gid=5,mode=620,ptmxmode=666 devpts $r/dev/pts
mount -t tmpfs -o nosuid,nodev,mode=1777 shm $r/dev/shm
mount -t tmpfs -o nosuid,nodev,mode=0755 run $r/run
mount -t tmpfs -o nosuid,nodev,mode=1777 tmp $r/tmp
mount -t cgroup2 -o nosuid,nodev,noexec,nsdelegate cgroup2 $r/sys/fs/cgroup
exec switch_root $r "$init"
