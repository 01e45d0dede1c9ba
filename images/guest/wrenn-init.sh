#!/bin/sh
# /sbin/wrenn-init: PID 1 of every Wrenn guest (the kernel, or the initramfs after switch_root, runs it).
# Sets up the mounts, the network for QEMU user networking and the hostname, then becomes tini, which
# reaps orphans and runs envd. Under TCG every fork+exec costs ~130 ms, so this uses shell builtins
# wherever it can: one `mount` per filesystem that is not mounted yet and a single `ip -batch`.
# Kernel args: wrenn.ip=ADDR/PREFIX (10.0.2.15/24), wrenn.gw=ADDR (10.0.2.2), wrenn.dns=ADDR (10.0.2.3).
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 TERM=linux

[ -e /proc/self ] || mount -t proc -o nosuid,nodev,noexec proc /proc
# An initramfs or a kernel with devtmpfs automount may have mounted some of these already.
mounted=" "
while read -r _src mnt _rest; do mounted="$mounted$mnt "; done </proc/mounts
need() { case "$mounted" in *" $1 "*) return 1 ;; esac; }

need /sys && mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
need /dev && mount -t devtmpfs -o nosuid,mode=0755 devtmpfs /dev
[ -d /dev/pts ] && [ -d /dev/shm ] || mkdir -p /dev/pts /dev/shm
need /dev/pts && mount -t devpts -o nosuid,noexec,gid=5,mode=620,ptmxmode=666 devpts /dev/pts
need /dev/shm && mount -t tmpfs -o nosuid,nodev,mode=1777 shm /dev/shm
need /run && mount -t tmpfs -o nosuid,nodev,mode=0755 run /run
need /tmp && mount -t tmpfs -o nosuid,nodev,mode=1777 tmp /tmp
need /sys/fs/cgroup && mount -t cgroup2 -o nosuid,nodev,noexec,nsdelegate cgroup2 /sys/fs/cgroup
for c in cpu memory io pids; do
  echo "+$c" 2>/dev/null >/sys/fs/cgroup/cgroup.subtree_control || true
done

ip=10.0.2.15/24 gw=10.0.2.2 dns=10.0.2.3
read -r cmdline </proc/cmdline
for arg in $cmdline; do
  case "$arg" in
  wrenn.ip=*) ip=${arg#wrenn.ip=} ;;
  wrenn.gw=*) gw=${arg#wrenn.gw=} ;;
  wrenn.dns=*) dns=${arg#wrenn.dns=} ;;
  esac
done
# -force: keep going when a line fails (no eth0 in a VM without a NIC still gets lo).
ip -force -batch - <<NET || echo "wrenn-init: network setup incomplete"
link set lo up
link set eth0 up
addr add $ip dev eth0
route add default via $gw
NET
echo "nameserver $dns" 2>/dev/null >/etc/resolv.conf || echo "wrenn-init: cannot write /etc/resolv.conf"
echo capsule >/proc/sys/kernel/hostname

read -r uptime _ </proc/uptime
echo "wrenn-init: uptime ${uptime}s"
echo "wrenn-init: starting envd"
exec /usr/bin/tini -s -- /usr/local/bin/envd --port 49983
