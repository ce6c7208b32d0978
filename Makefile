# logswap.netconsole: `make demo` and `make test` are all a user needs; both run `make setup` first.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
VENV := $(CURDIR)/.venv
export PATH := $(VENV)/bin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/.cache/collections
export PY_COLORS := 0
export ANSIBLE_FORCE_COLOR := 0
SCENARIOS := receiver pair reliable

.PHONY: help setup images test-images lint ruff ansible-lint sanity unit integration molecule test demo demo-clean bench bench-relp bench-report build kernel test-kernel-6.12 test-kernel-7.3 changelog clean

help:
	@echo "make demo     set everything up, run the friend pair on two local containers, show the result"
	@echo "make test     set everything up and run every test (lint, sanity, unit, integration, molecule)"
	@echo "make lint     ruff, ansible-lint (production profile), ansible-test sanity"
	@echo "make bench    receiver burst and ingest benchmark, then make bench-relp"
	@echo "make bench-relp  the reliable channel (RELP over TLS): sustained rate, drain of a 10-minute backlog, zero loss"
	@echo "make bench-report  netconsole-report's lines per CPU second over a month of rotated files"

setup:
	@scripts/setup.sh

images: setup
	@scripts/build-images.sh

# make test builds the kernel scenario's disk image together with the container images.
test-images: setup
	@scripts/build-images.sh --vm

ruff: setup
	@echo "==> ruff"
	@ruff check plugins tests scripts bench extensions
	@ruff format --check plugins tests scripts bench extensions

ansible-lint: setup
	@echo "==> ansible-lint (production profile)"
	@ansible-lint --profile production --offline

sanity: setup
	@echo "==> ansible-test sanity"
	@scripts/sanity.sh

lint: ruff ansible-lint sanity

unit: setup
	@scripts/stage.sh unit pytest -q tests/unit

integration: setup
	@echo "==> integration tests: nexthop_info in network namespaces, the acl mount step on loop mounts, the GRUB drop-in through grub-mkconfig, the receiver config, its cap and its nftables table in rsyslogd and namespaces"
	@scripts/stage.sh integration pytest -q tests/integration

molecule: images
	@export LOGSWAP_IMAGE_BOOKWORM=$$(scripts/build-image.sh bookworm) LOGSWAP_IMAGE_TRIXIE=$$(scripts/build-image.sh trixie); \
	for s in $(SCENARIOS); do \
	    scripts/stage.sh molecule-$$s molecule test -s $$s || exit 1; \
	done

kernel: setup
	@echo "==> molecule scenario kernel: QEMU guests with Debian's kernel, booted through GRUB"
	@scripts/stage.sh molecule-kernel molecule test -s kernel

# The same scenario with bookworm-backports' kernel (6.12: release, userdata, command line takeover).
test-kernel-6.12: setup
	@VM_BACKPORTS_KERNEL=1 LOGSWAP_KERNEL_RELEASE=true LOGSWAP_PSTORE_ADDRESS= scripts/stage.sh molecule-kernel-6.12 molecule test -s kernel

# Debian 13 with trixie-backports' kernel (7.3: userdata, transmit_errors, sysdata cpu_nr/taskname/release, msgid).
# Its image (debootstrap trixie + the backports kernel) takes about 3.5 minutes the first time.
test-kernel-7.3: setup
	@VM_SUITE=trixie VM_BACKPORTS_KERNEL=1 LOGSWAP_KERNEL_RELEASE=true LOGSWAP_PSTORE_ADDRESS= scripts/stage.sh molecule-kernel-7.3 molecule test -s kernel

# The image builds wait mostly on the mirror and dpkg, the linters and unit tests on the CPU: run them side by
# side (two at a time, output line by line), then the tests that need the images, one after the other.
test: setup
	@$(MAKE) --no-print-directory -j2 -Oline test-images lint unit
	@$(MAKE) --no-print-directory integration molecule kernel build
	@echo "==> all tests passed"

build: setup
	@echo "==> building and installing the collection tarball into a fresh path"
	@rm -rf build/install && mkdir -p build/install
	@ansible-galaxy collection build --force --output-path build/ . >/dev/null
	@export ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/build/install; \
	ansible-galaxy collection install --offline --no-deps -p build/install build/logswap-netconsole-*.tar.gz >/dev/null && \
	ansible-doc -l logswap.netconsole && \
	ansible-doc -t role -l logswap.netconsole | grep -q receiver

demo: images
	@scripts/demo.sh

demo-clean: setup
	@scripts/demo.sh clean

# One core, a month of rotated files written to a scratch directory: seconds, no containers.
# BENCH_REPORT_ARGS: e.g. --compare /tmp/kmsgview-before.py (another kmsgview.py timed on the same files)
bench-report: setup
	@python bench/report.py $(BENCH_REPORT_ARGS)

bench: images
	@scripts/bench.sh
	@$(MAKE) --no-print-directory bench-relp

# Both ends' rsyslogd in two namespaces with the roles' own relp.conf.j2; a few minutes, holds /tmp/logswap-heavy.lock
# while timing (LOGSWAP_HEAVY_LOCK= for none). Beside the role's queue, rsyslog's default watermarks (the setting
# that lost records); BENCH_RELP_ARGS replaces that, e.g. --variant 'LABEL=name="value" other=-' (bench/relp.py -h).
BENCH_RELP_ARGS ?= --variant 'rsyslog default watermarks=queue.highWatermark=- queue.lowWatermark=-'
bench-relp: setup
	@python bench/relp.py $(BENCH_RELP_ARGS)

changelog: setup
	@antsibull-changelog release

clean:
	rm -rf build .cache tests/output
