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

.PHONY: help check setup images test-images lint ruff ansible-lint sanity unit integration molecule test demo demo-clean bench bench-relp bench-report bench-fleet build kernel test-kernel-pstore test-kernel-6.12 test-kernel-7.3 changelog clean

# Every target says what it does in a "## " comment on its own line; help prints them all
# (tests/unit/test_makefile.py fails on a target without one).
help: ## list every target
	@awk -F':.*## ' '/^[a-z0-9.-]+:.*## / { printf "make %-18s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

setup: ## apt packages, dockerd, the pinned venv, this tree as the collection (safe to repeat)
	@scripts/setup.sh

images: setup ## the Debian 12 and 13 container images the scenarios run on
	@scripts/build-images.sh

# make test builds the kernel scenario's disk image together with the container images.
test-images: setup ## the container images and the kernel scenario's disk image
	@scripts/build-images.sh --vm

ruff: setup ## ruff check and ruff format --check
	@echo "==> ruff"
	@ruff check plugins tests scripts bench extensions
	@ruff format --check plugins tests scripts bench extensions

ansible-lint: setup ## ansible-lint, production profile
	@echo "==> ansible-lint (production profile)"
	@ansible-lint --profile production --offline

sanity: setup ## ansible-test sanity
	@echo "==> ansible-test sanity"
	@scripts/sanity.sh

lint: ruff ansible-lint sanity ## ruff, ansible-lint (production profile), ansible-test sanity

unit: setup ## unit tests (tests/unit)
	@scripts/stage.sh unit pytest -q tests/unit

check: setup ## the fast loop while editing: ruff and the unit tests, seconds
	@ruff check plugins tests scripts bench extensions
	@ruff format --check plugins tests scripts bench extensions
	@pytest -q -p no:cacheprovider tests/unit

integration: setup ## integration tests as root: namespaces, rsyslogd, loop mounts, grub-mkconfig
	@echo "==> integration tests: nexthop_info in network namespaces, the acl mount step on loop mounts, the GRUB drop-in through grub-mkconfig, the receiver config, its cap and its nftables table in rsyslogd and namespaces"
	@scripts/stage.sh integration pytest -q tests/integration

molecule: images ## the container scenarios (SCENARIOS="receiver pair reliable"; receiver and reliable share container bob)
	@export LOGSWAP_IMAGE_BOOKWORM=$$(scripts/build-image.sh bookworm) LOGSWAP_IMAGE_TRIXIE=$$(scripts/build-image.sh trixie); \
	for s in $(SCENARIOS); do \
	    scripts/stage.sh molecule-$$s molecule test -s $$s || exit 1; \
	done

# guest1 on Debian 12's 6.1, guest2 on Debian 13 with trixie-backports' 7.3: friends rarely run the same kernel,
# and one run proves what the oldest and the newest offer (msgid, sysdata, resume, reserve_mem=).
kernel: setup ## the kernel scenario: QEMU guests with Debian's kernels (12's 6.1 and 13's backports 7.3), booted through GRUB
	@echo "==> molecule scenario kernel: QEMU guests with Debian's kernels (guest1 Debian 12 6.1, guest2 Debian 13 7.3), booted through GRUB"
	@VM_SUITE_2=trixie VM_BACKPORTS_KERNEL_2=1 scripts/stage.sh molecule-kernel molecule test -s kernel

# The kernel scenario with the pstore proofs too (verify_pstore.yml): two more panics and reboots, about 9 minutes.
test-kernel-pstore: setup ## the kernel scenario, then panics kept by pstore and shipped to the friend
	@echo "==> molecule scenario kernel with the pstore panics (guest1 Debian 12 6.1, guest2 Debian 13 7.3)"
	@VM_SUITE_2=trixie VM_BACKPORTS_KERNEL_2=1 LOGSWAP_KERNEL_VERIFY=verify_pstore.yml LOGSWAP_PSTORE_ADDRESS_2=0x20000000 scripts/stage.sh molecule-kernel-pstore molecule test -s kernel

# The same scenario with both guests on bookworm-backports' kernel (6.12: release, userdata, command line takeover).
test-kernel-6.12: setup ## the kernel scenario on bookworm-backports' 6.12
	@VM_BACKPORTS_KERNEL=1 LOGSWAP_KERNEL_RELEASE=true LOGSWAP_PSTORE_ADDRESS= scripts/stage.sh molecule-kernel-6.12 molecule test -s kernel

# Both guests on Debian 13 with trixie-backports' kernel (7.3: userdata, transmit_errors, sysdata, msgid).
# Its image (debootstrap trixie + the backports kernel) takes about 3.5 minutes the first time.
test-kernel-7.3: setup ## the kernel scenario on Debian 13 with trixie-backports' 7.3
	@VM_SUITE=trixie VM_BACKPORTS_KERNEL=1 LOGSWAP_KERNEL_RELEASE=true LOGSWAP_PSTORE_ADDRESS= scripts/stage.sh molecule-kernel-7.3 molecule test -s kernel

# The image builds wait mostly on the mirror and dpkg, the linters and unit tests on the CPU: run them side by
# side (two at a time, output line by line), then the tests that need the images, one after the other.
test: setup ## everything CI runs: lint, sanity, unit, integration, molecule, kernel, build
	@$(MAKE) --no-print-directory -j2 -Oline test-images lint unit
	@$(MAKE) --no-print-directory integration molecule kernel build
	@echo "==> all tests passed"

build: setup ## build the collection tarball and install it into a fresh path
	@echo "==> building and installing the collection tarball into a fresh path"
	@rm -rf build/install && mkdir -p build/install
	@ansible-galaxy collection build --force --output-path build/ . >/dev/null
	@export ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/build/install; \
	ansible-galaxy collection install --offline --no-deps -p build/install build/logswap-netconsole-*.tar.gz >/dev/null && \
	ansible-doc -l logswap.netconsole && \
	ansible-doc -t role -l logswap.netconsole | grep -q receiver

demo: images ## set everything up, run the friend pair on two local containers, show the result
	@scripts/demo.sh

demo-clean: setup ## remove the demo's containers
	@scripts/demo.sh clean

# One core, a month of rotated files written to a scratch directory: seconds, no containers.
# BENCH_REPORT_ARGS: e.g. --compare /tmp/kmsgview-before.py (another kmsgview.py timed on the same files)
bench-report: setup ## netconsole-report's lines per CPU second over a month of rotated files
	@python bench/report.py $(BENCH_REPORT_ARGS)

# Rings of 2, 8 and 16 containers (fleet-NN on fleet-net), first and no-change run of playbooks/netconsole.yml;
# about 15 minutes on 2 idle cores; holds /tmp/logswap-heavy.lock (LOGSWAP_HEAVY_LOCK= for none). Not in make test.
# BENCH_FLEET_ARGS: e.g. --sizes 2,16 or --forks 32 (bench/fleet.py -h).
bench-fleet: images ## the main playbook on rings of 2, 8 and 16 containers: seconds, tasks and CPU per host
	@python bench/fleet.py $(BENCH_FLEET_ARGS)

bench: images ## receiver burst and ingest benchmark, then make bench-relp
	@scripts/bench.sh
	@$(MAKE) --no-print-directory bench-relp

# Both ends' rsyslogd in two namespaces with the roles' own relp.conf.j2; a few minutes, holds /tmp/logswap-heavy.lock
# while timing (LOGSWAP_HEAVY_LOCK= for none). Beside the role's queue, rsyslog's default watermarks (the setting
# that lost records); BENCH_RELP_ARGS replaces that, e.g. --variant 'LABEL=name="value" other=-' (bench/relp.py -h).
BENCH_RELP_ARGS ?= --variant 'rsyslog default watermarks=queue.highWatermark=- queue.lowWatermark=-'
bench-relp: setup ## the reliable channel (RELP over TLS): sustained rate, drain of a 10-minute backlog, zero loss
	@python bench/relp.py $(BENCH_RELP_ARGS)

changelog: setup ## release the changelog from changelogs/fragments (antsibull-changelog)
	@antsibull-changelog release

clean: ## remove build, .cache and tests/output
	rm -rf build .cache tests/output
