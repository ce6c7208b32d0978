"""A small scripted incident, sent as an extended netconsole target sends it: `make demo` shows the friend's report.

Runs inside the sending host (its own address is the datagrams' source): python3 - <receiver> <port>.
A boot, ordinary lines, a lost datagram, a soft lockup turning into a panic with its call trace, and the
next boot: the morning-after story in a few lines.
"""

import socket
import sys
import time

BANNER = "Linux version 6.1.0-27-amd64 (debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC Debian 6.1.115-1"
RECORDS = [
    f"5,0,0,-;{BANNER}",
    "6,1,1000,-;Command line: BOOT_IMAGE=/boot/vmlinuz-6.1.0-27-amd64 root=/dev/sda1 ro netconsole=@/eth0,6666@",
    "6,2,2000,-;e1000e 0000:00:19.0 eth0: NIC Link is Up 1000 Mbps Full Duplex",
    "4,3,8000000,-;EXT4-fs (sda1): warning: mounting fs with errors, running e2fsck is recommended",
    # 4 and 5 never arrive: the report counts them
    "3,6,9000000,-;ata1.00: failed command: READ FPDMA QUEUED",
    "0,7,9500000,-;watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [kworker/1:2:1234]",
    "0,8,9500100,-;CPU: 1 PID: 1234 Comm: kworker/1:2 Not tainted 6.1.0-27-amd64 #1 Debian 6.1.115-1",
    "0,9,9500200,-;Call Trace:",
    "0,10,9500300,-; <TASK>",
    "0,11,9500400,-; ata_scsi_queuecmd+0x1f/0x60 [libata]",
    "0,12,9500500,-; scsi_queue_rq+0x3a1/0xc40 [scsi_mod]",
    "0,13,9500600,-; </TASK>",
    "0,14,9600000,-;Kernel panic - not syncing: softlockup: hung tasks",
    "0,15,9600100,-;---[ end Kernel panic - not syncing: softlockup: hung tasks ]---",
    f"5,0,0,-;{BANNER}",
    "6,1,1000,-;Command line: BOOT_IMAGE=/boot/vmlinuz-6.1.0-27-amd64 root=/dev/sda1 ro netconsole=@/eth0,6666@",
    # the first lines of a boot read the same every time: this one tells the reboot from a replay
    "6,2,1500,-;BIOS-provided physical RAM map:",
]


def main() -> None:
    receiver, port = sys.argv[1], int(sys.argv[2])
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("", 6665))  # netconsole's source port
    for record in RECORDS:
        sock.sendto(record.encode() + b"\n", (receiver, port))
        time.sleep(0.02)  # keep the order, as one kernel's burst arrives


main()
