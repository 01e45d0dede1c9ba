#!/usr/bin/env node
import { parseArgs } from "node:util";
import { buildApp } from "./app.ts";
import { ConfigError, loadConfig } from "./config.ts";
import { migrateToLatest } from "./db/migrate.ts";
import { createLogger } from "./logger.ts";
import { openConfiguredDatabase, startServer } from "./server.ts";
import { bootstrap } from "./services/bootstrap.ts";

const USAGE = `usage: wrenn-cp [serve]                      run the API (default)
       wrenn-cp migrate-up                   apply database migrations and exit
       wrenn-cp bootstrap --email E --password P [--name N]
                                             create an admin, team, API key and host token; print JSON`;

async function main(argv: string[]): Promise<number> {
  const cmd = argv[0] && !argv[0].startsWith("-") ? argv[0] : "serve";
  const rest = cmd === argv[0] ? argv.slice(1) : argv;
  if (cmd === "help" || rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  if (cmd === "migrate-up") {
    const db = await openConfiguredDatabase(config);
    try {
      const r = await migrateToLatest(db.db as never);
      log.info({ applied: r.results?.map((x) => x.migrationName) ?? [] }, "migrations applied");
    } finally {
      await db.close();
    }
    return 0;
  }
  if (cmd === "bootstrap") {
    const { values } = parseArgs({
      args: rest,
      options: { email: { type: "string" }, password: { type: "string" }, name: { type: "string" } },
    });
    if (!values.email || !values.password || values.password.length < 8) {
      process.stderr.write(`bootstrap needs --email and --password (at least 8 characters)\n${USAGE}\n`);
      return 2;
    }
    const quiet = createLogger(config.logLevel === "info" ? "warn" : config.logLevel);
    const db = await openConfiguredDatabase(config);
    try {
      await migrateToLatest(db.db as never);
      const { services } = await buildApp({
        db: db.db,
        logger: quiet,
        jwtSecret: config.jwtSecret,
        publicUrl: config.publicUrl,
      });
      const r = await bootstrap(db.db, services, { email: values.email, password: values.password, name: values.name });
      process.stdout.write(`${JSON.stringify(r)}\n`);
    } finally {
      await db.close();
    }
    return 0;
  }
  if (cmd !== "serve") {
    process.stderr.write(`unknown command ${cmd}\n${USAGE}\n`);
    return 2;
  }
  const server = await startServer(config, log);
  log.info({ url: server.url, database: server.db.kind }, "wrenn-cp listening");
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, "shutting down");
      resolve();
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  });
  // Graceful shutdown waits up to 30 s, as the reference does.
  const deadline = setTimeout(() => process.exit(1), 30_000);
  deadline.unref();
  await server.close();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    if (err instanceof ConfigError) process.stderr.write(`${err.message}\n`);
    else process.stderr.write(`wrenn-cp: ${err?.stack ?? err}\n`);
    process.exit(1);
  },
);
