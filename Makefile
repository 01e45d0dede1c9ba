# Thin wrappers over npm scripts (see package.json). `make help` lists them.
.PHONY: help install build build-envd images migrate-up dev dev-agent check test e2e generate up

help:
	@echo "make build | build-envd | images | migrate-up | dev | dev-agent | check | test | e2e | generate | up"

install:
	npm ci --no-fund --no-audit

build:            ## builds/wrenn-cp, builds/wrenn-agent, builds/envd
	npm run build

build-envd:
	npm run build -- envd

images:           ## kernel + template rootfs images under $AGENT_FILES_ROOTDIR
	npm run images

migrate-up:       ## apply database migrations to $DATABASE_URL (or the embedded database)
	node --import tsx apps/control-plane/src/main.ts migrate-up

dev:              ## control plane with the embedded database (or $DATABASE_URL)
	node --import tsx apps/control-plane/src/main.ts

dev-agent:        ## host agent (needs root for /var/lib/wrenn and QEMU)
	node --import tsx apps/host-agent/src/main.ts

check:            ## format + lint + typecheck + unit tests
	npm run check

test:             ## the whole suite (unit + end-to-end with real VMs and PostgreSQL)
	scripts/setup.sh
	npm test

e2e:
	npm run test:e2e

generate:
	npm run generate

up:               ## command one: install what is missing, build images, start Wrenn, run a first capsule
	scripts/setup.sh
	npm run up
